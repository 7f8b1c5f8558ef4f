// What the client needs from the bootstrap string: where the server is (endpoints) and
// the key that signs sender certificates (pinned, so a server cannot forge senders).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.hpp"
#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::client {

struct NetworkConfig {
  std::string bootstrap;  // the string as given, kept in the account database
  crypto::Ed25519Public certificate_key{};
  std::vector<transport::Endpoint> endpoints;  // in the order to try
};

// Parses a bootstrap string (src/reach/bootstrap.hpp) into what the client uses.
// Errc::invalid_argument with the parser's explanation.
Result<NetworkConfig> parse_network_config(std::string_view bootstrap);

}  // namespace samizdat::client
