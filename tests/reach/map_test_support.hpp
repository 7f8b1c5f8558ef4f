// Shared by the map and channel tests: a root key, a certified signing key, a sample map,
// and a log capture so tests can assert the line a user would read.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>

#include "reach/map/signed_map.hpp"

namespace samizdat::reach::testing {

inline constexpr std::uint64_t kNow = 1'800'000'000;  // a fixed "now" in unix seconds

struct Operator {
  crypto::Ed25519KeyPair root = crypto::Ed25519KeyPair::generate();
  crypto::Ed25519KeyPair signing = crypto::Ed25519KeyPair::generate();
  SigningKeyCertificate certificate;

  explicit Operator(std::uint64_t from = kNow - 3600, std::uint64_t until = kNow + 30 * 86400) {
    certificate = *certify_signing_key(root, signing.public_key, from, until);
  }
  Bytes sign(const NetworkMap& map) const { return *sign_map(map, certificate, signing); }
};

inline MapEndpoint sample_endpoint(std::string host, std::uint16_t port) {
  MapEndpoint entry;
  entry.endpoint.scheme = "tcp";
  entry.endpoint.host = std::move(host);
  entry.endpoint.port = port;
  entry.endpoint.server_static.fill(0x11);
  entry.endpoint.psk.fill(0x22);
  return entry;
}

inline NetworkMap sample_map(std::uint64_t version, std::size_t endpoints = 3) {
  NetworkMap map;
  map.version = version;
  map.issued_at = kNow - 60;
  map.expires_at = kNow + 7 * 86400;
  for (std::size_t i = 0; i < endpoints; ++i) {
    map.endpoints.push_back(
        sample_endpoint("10.20." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                        static_cast<std::uint16_t>(4430 + i)));
  }
  map.mirrors.push_back(
      MapMirror{"https://mirror.example/samizdat/map.bin", "cdn.example", "mirror.example"});
  map.dns_names.push_back("map.samizdat.example");
  return map;
}

// Routes spdlog's default logger into a string for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

}  // namespace samizdat::reach::testing
