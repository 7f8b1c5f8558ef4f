// Bootstrap strings against frozen text (tests/vectors/reach-bootstrap.json): strings already
// handed out must keep parsing to the same network, and the encoder must keep writing them
// byte for byte (a changed checksum label or field order fails here).
#include <gtest/gtest.h>

#include "reach/bootstrap.hpp"
#include "vectors/golden_vectors.hpp"

namespace samizdat::reach {
namespace {

using golden::hex_array;
using golden::Json;

std::string optional_text(const Json& object, const char* key) {
  return object.contains(key) ? object.at(key).get<std::string>() : std::string();
}

Bootstrap bootstrap_from(const Json& vector) {
  Bootstrap bootstrap;
  bootstrap.operator_key = hex_array<32>(vector, "operator_key");
  if (vector.contains("map_root")) bootstrap.map_root = hex_array<32>(vector, "map_root");
  for (const auto& fields : vector.at("endpoints")) {
    transport::Endpoint endpoint;
    endpoint.scheme = fields.at("scheme").get<std::string>();
    endpoint.host = fields.at("host").get<std::string>();
    endpoint.port = fields.at("port").get<std::uint16_t>();
    endpoint.path = optional_text(fields, "path");
    endpoint.sni = optional_text(fields, "sni");
    endpoint.host_header = optional_text(fields, "host_header");
    endpoint.shaping = optional_text(fields, "shaping");
    endpoint.server_static = hex_array<32>(fields, "server_static");
    endpoint.psk = hex_array<32>(fields, "psk");
    bootstrap.endpoints.push_back(std::move(endpoint));
  }
  if (vector.contains("mirrors")) {
    for (const auto& mirror : vector.at("mirrors")) {
      bootstrap.mirrors.push_back(MapMirror{mirror.at("url").get<std::string>(),
                                            optional_text(mirror, "front_sni"),
                                            optional_text(mirror, "front_host")});
    }
  }
  if (vector.contains("dns_names"))
    bootstrap.dns_names = vector.at("dns_names").get<std::vector<std::string>>();
  return bootstrap;
}

TEST(GoldenVectors, BootstrapStringsMatchTheFrozenTextAndParseBackToTheirFields) {
  for (const auto& vector : golden::load_vectors("reach-bootstrap.json")) {
    Bootstrap bootstrap = bootstrap_from(vector);
    const auto expected = vector.at("expected").at("text").get<std::string>();
    auto text = encode_bootstrap(bootstrap);
    ASSERT_TRUE(text.ok()) << text.error().describe();
    EXPECT_EQ(*text, expected);

    auto parsed = parse_bootstrap(expected);
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    EXPECT_EQ(parsed->operator_key, bootstrap.operator_key);
    EXPECT_EQ(parsed->map_root, bootstrap.map_root);
    ASSERT_EQ(parsed->endpoints.size(), bootstrap.endpoints.size());
    for (std::size_t i = 0; i < bootstrap.endpoints.size(); ++i) {
      const auto& got = parsed->endpoints[i];
      const auto& want = bootstrap.endpoints[i];
      EXPECT_EQ(got.to_uri_with_keys(), want.to_uri_with_keys());
      EXPECT_EQ(got.sni, want.sni);
      EXPECT_EQ(got.host_header, want.host_header);
    }
    ASSERT_EQ(parsed->mirrors.size(), bootstrap.mirrors.size());
    for (std::size_t i = 0; i < bootstrap.mirrors.size(); ++i) {
      EXPECT_EQ(parsed->mirrors[i].url, bootstrap.mirrors[i].url);
      EXPECT_EQ(parsed->mirrors[i].front_sni, bootstrap.mirrors[i].front_sni);
      EXPECT_EQ(parsed->mirrors[i].front_host, bootstrap.mirrors[i].front_host);
    }
    EXPECT_EQ(parsed->dns_names, bootstrap.dns_names);
  }
}

}  // namespace
}  // namespace samizdat::reach
