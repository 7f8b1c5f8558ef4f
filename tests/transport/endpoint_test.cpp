#include "transport/endpoint.hpp"

#include <gtest/gtest.h>

#include "transport/transport.hpp"

namespace samizdat::transport {
namespace {

TEST(EndpointUri, ParsesHostPortAndKeysAndPrintsThemBack) {
  Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = 4433;
  endpoint.server_static.fill(7);
  endpoint.psk.fill(9);
  auto parsed = parse_endpoint_uri(endpoint.to_uri_with_keys());
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->scheme, "tcp");
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 4433);
  EXPECT_EQ(parsed->server_static, endpoint.server_static);
  EXPECT_EQ(parsed->psk, endpoint.psk);
  EXPECT_EQ(parsed->to_uri(), "tcp://127.0.0.1:4433");
}

TEST(EndpointUri, CarriesTheObfsShapingModeThroughTheUri) {
  Endpoint endpoint;
  endpoint.scheme = "obfs";
  endpoint.host = "127.0.0.1";
  endpoint.port = 8443;
  EXPECT_EQ(endpoint.to_uri_with_keys().find("shaping="), std::string::npos);
  endpoint.shaping = "prefix";
  auto parsed = parse_endpoint_uri(endpoint.to_uri_with_keys());
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->shaping, "prefix");
  EXPECT_EQ(parsed->to_uri_with_keys(), endpoint.to_uri_with_keys());
}

TEST(EndpointUri, AcceptsBracketedIpv6AndAPathForLaterTransports) {
  auto parsed = parse_endpoint_uri("wss://[::1]:443/secret/path");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->scheme, "wss");
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 443);
  EXPECT_EQ(parsed->path, "/secret/path");
  EXPECT_EQ(parsed->to_uri(), "wss://[::1]:443/secret/path");
}

TEST(EndpointUri, RejectsBrokenUrisWithAMessageNamingTheProblem) {
  struct Case {
    const char* uri;
    const char* says;
  };
  for (auto [uri, says] :
       {Case{"127.0.0.1:80", "missing scheme"}, Case{"tcp://127.0.0.1", "missing port"},
        Case{"tcp://:80", "missing host"}, Case{"tcp://h:70000", "port must be"},
        Case{"tcp://h:80x", "port must be"}, Case{"tcp://h:80?key=abc", "key must be 32 bytes"},
        Case{"tcp://h:80?bogus=1", "unknown query parameter"}, Case{"TCP://h:80", "lower-case"},
        Case{"tcp://[::1:80", "unterminated"}}) {
    auto parsed = parse_endpoint_uri(uri);
    ASSERT_FALSE(parsed.ok()) << uri;
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
    EXPECT_NE(parsed.error().message.find(says), std::string::npos)
        << uri << " -> " << parsed.error().message;
  }
}

TEST(TransportRegistry, FindsTcpAndNamesTheKnownOnesForAnUnknownScheme) {
  auto& registry = TransportRegistry::default_registry();
  ASSERT_TRUE(registry.find("tcp").ok());
  auto missing = registry.find("carrier-pigeon");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("known: tcp"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace samizdat::transport
