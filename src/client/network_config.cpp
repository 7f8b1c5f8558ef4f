#include "client/network_config.hpp"

#include "reach/bootstrap.hpp"

namespace samizdat::client {

Result<NetworkConfig> parse_network_config(std::string_view bootstrap) {
  auto parsed = reach::parse_bootstrap(bootstrap);
  if (!parsed.ok()) {
    return make_error(Errc::invalid_argument,
                      "the bootstrap string is not usable: " + parsed.error().message);
  }
  NetworkConfig config;
  config.bootstrap = std::string(bootstrap);
  // The operator key signs sender certificates directly in this version of the network.
  config.certificate_key = parsed->operator_key;
  config.endpoints = std::move(parsed->endpoints);
  if (config.endpoints.empty()) {
    return make_error(Errc::invalid_argument, "the bootstrap string lists no server to connect to");
  }
  return config;
}

}  // namespace samizdat::client
