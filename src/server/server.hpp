// Server: samizdatd's running core. One io_context per core (connections pinned to
// one), transport listeners, SQLite storage, the router of online devices, a periodic
// expiry sweep, and a clean stop (stop accepting, close sessions, flush storage).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "crypto/keys.hpp"
#include "server/service_context.hpp"
#include "store/store_limits.hpp"
#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::server {

struct ServerOptions {
  std::filesystem::path database;
  std::vector<transport::Endpoint> listen;  // scheme, host, port (0 = any free), PSK
  std::shared_ptr<const crypto::X25519KeyPair> noise_static;
  std::shared_ptr<const crypto::Ed25519KeyPair> certificate_key;
  std::size_t threads = 0;  // 0 = one per core
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds expiry_sweep_interval{std::chrono::minutes(10)};
  std::size_t max_queued_bytes_per_connection = 1 << 20;
  // tls listeners: certificate chain + key files and the cover site directory.
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_private_key;
  std::filesystem::path cover_site;
  // DIR/map/published.bin: the network map offered in-band (map_push.hpp); empty = none.
  std::filesystem::path published_map_file;
  SessionLimits limits;
  store::StoreLimits store_limits;
};

class Server {
 public:
  // Opens storage, binds every listener and starts the worker threads. Errc::network
  // for a port in use, Errc::storage for a bad database, with messages saying which.
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound endpoints (real ports), with the server key and PSK filled in.
  const std::vector<transport::Endpoint>& endpoints() const;
  // Blocks until SIGINT or SIGTERM arrives, then stops.
  void wait_for_signal();
  // Stops accepting, closes every session, flushes storage, joins the threads. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace samizdat::server
