// The directory `samizdatd relay --dir DIR` creates on its first run and serves from:
//   DIR/relay.toml               upstream (the network's bootstrap string) and listen URIs
//   DIR/keys/noise_static.key    the relay's X25519 secret (hex), mode 0600
//   DIR/keys/endpoint.psk        the relay endpoints' PSK (hex), mode 0600
//   DIR/keys/tls_certificate.pem self-signed certificate for tls/wss listeners (and its
//   DIR/keys/tls_private_key.pem key, mode 0600), made when a tls/wss listener first needs it
//   DIR/share.txt                the share link (samizdat-relay1:...), rewritten each start
// The relay's keys are its own: they are not the server's, and the relay never holds any
// key of the network it serves.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "server/relay/relay.hpp"
#include "util/result.hpp"

namespace samizdat::server {

struct RelayDirectory {
  std::filesystem::path dir;
  RelayOptions options;             // keys, listen endpoints (with PSK), upstream endpoints
  std::string upstream_bootstrap;   // as configured
  std::vector<std::string> listen;  // as configured (port 0 = pick one on first start)
};

// Loads DIR, creating it on first use. `upstream` and `listen`, when given, replace what
// the config holds (and are saved). A new directory needs `upstream`; listen defaults to
// one loopback tcp listener. Errc::invalid_argument for a bad bootstrap string or URI.
Result<RelayDirectory> open_relay_directory(const std::filesystem::path& dir,
                                            std::optional<std::string> upstream,
                                            const std::vector<std::string>& listen);

// After start: records the ports actually bound (so the link stays valid across
// restarts), writes DIR/share.txt and returns the link.
Result<std::string> record_relay_endpoints(const RelayDirectory& directory,
                                           const std::vector<transport::Endpoint>& bound);

}  // namespace samizdat::server
