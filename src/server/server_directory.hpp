// The server directory that `samizdatd init` creates and `samizdatd run` serves from:
//   DIR/config.toml          every option, each with a comment
//   DIR/keys/noise_static.key  X25519 secret (hex), mode 0600
//   DIR/keys/operator.key      Ed25519 seed (hex), mode 0600: signs sender certificates
//   DIR/keys/endpoint.psk      the endpoints' PSK (hex), mode 0600
//   DIR/keys/tls.crt, tls.key  self-signed TLS certificate and key of tls listeners (0600 key)
//   DIR/samizdat.db          SQLite storage
//   DIR/bootstrap.txt        the bootstrap string for clients
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "reach/map/network_map.hpp"
#include "server/server.hpp"
#include "util/result.hpp"

namespace samizdat::server {

struct ServerConfig {
  std::vector<std::string> listen;     // endpoint URIs to bind
  std::vector<std::string> advertise;  // endpoint URIs for the bootstrap string (empty = listen)
  std::size_t threads = 0;
  std::string log_level = "info";
  std::int64_t handshake_timeout_ms = 10'000;
  std::int64_t retention_days = 30;
  std::int64_t expiry_sweep_seconds = 600;
  std::int64_t max_envelope_bytes = 64 * 1024;
  std::int64_t max_queued_per_mailbox = 10'000;
  std::int64_t max_recipients_per_send = 100;
  double requests_per_second = 50;
  double request_burst = 200;
  // tls: certificate chain and key (PEM; relative to the directory), cover site directory
  // (empty = the shipped share/cover-site).
  std::string tls_certificate = "keys/tls.crt";
  std::string tls_private_key = "keys/tls.key";
  std::string cover_site;
};

// Errc::invalid_argument naming the file, the key and what is wrong.
Result<ServerConfig> load_server_config(const std::filesystem::path& file);
std::string render_server_config(const ServerConfig& config);

struct InitResult {
  std::string bootstrap;
  std::vector<std::string> listen;  // with the chosen ports
};

// Creates DIR (which must not exist or be empty). listen: URIs, default one loopback
// tcp listener; port 0 picks a free port now and records it.
Result<InitResult> init_server_directory(const std::filesystem::path& dir, std::vector<std::string> listen,
                                         std::vector<std::string> advertise);

struct LoadedServer {
  ServerConfig config;
  ServerOptions options;
  crypto::Ed25519Public operator_key{};
  // DIR/map/root.pub (`samizdatd map certify-signing-key`): the bootstrap string then pins it.
  std::optional<crypto::Ed25519Public> map_root;
  // The published map's HTTPS mirrors and DNS names (DIR/map/published.bin, if any): the
  // bootstrap string carries them so a client with no map yet can fetch one.
  std::vector<reach::MapMirror> map_mirrors;
  std::vector<std::string> map_dns_names;
};
// Reads config and keys; Errc::not_found for a missing directory, invalid_argument for
// a bad config, io for unreadable keys.
Result<LoadedServer> load_server_directory(const std::filesystem::path& dir);

// The bootstrap string for these bound endpoints (advertised URIs replace host/port), with
// the map root and the published map's mirrors and DNS names (the first few that fit).
Result<std::string> make_bootstrap(const LoadedServer& loaded, const std::vector<transport::Endpoint>& bound);

// Rewrites DIR/bootstrap.txt from the directory as it is now (after `samizdatd map
// certify-signing-key` or `publish`) and returns the string.
Result<std::string> rewrite_bootstrap_file(const std::filesystem::path& dir);

}  // namespace samizdat::server
