#include "reach/bootstrap.hpp"

#include <gtest/gtest.h>

#include "crypto/secret.hpp"

namespace samizdat::reach {
namespace {

Bootstrap sample() {
  crypto::ensure_initialized();
  Bootstrap bootstrap;
  crypto::fill_random(bootstrap.operator_key);
  transport::Endpoint tcp;
  tcp.host = "127.0.0.1";
  tcp.port = 4433;
  crypto::fill_random(tcp.server_static);
  crypto::fill_random(tcp.psk);
  transport::Endpoint wss = tcp;
  wss.scheme = "wss";
  wss.host = "cdn.example.net";
  wss.port = 443;
  wss.path = "/a/secret/path";
  wss.sni = "cdn.example.net";
  wss.host_header = "origin.example.org";
  transport::Endpoint obfs = tcp;
  obfs.scheme = "obfs";
  obfs.port = 8443;
  obfs.shaping = "popcount";
  bootstrap.endpoints = {tcp, wss, obfs};
  return bootstrap;
}

TEST(BootstrapString, RoundTripsOperatorKeyAndEveryEndpointField) {
  auto bootstrap = sample();
  auto text = encode_bootstrap(bootstrap);
  ASSERT_TRUE(text.ok()) << text.error().describe();
  EXPECT_EQ(text->rfind("samizdat1:", 0), 0u);
  EXPECT_EQ(text->find_first_of(" \n+/="), std::string::npos);  // one line, URL-safe
  auto parsed = parse_bootstrap("  " + *text + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->operator_key, bootstrap.operator_key);
  ASSERT_EQ(parsed->endpoints.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& a = parsed->endpoints[i];
    const auto& b = bootstrap.endpoints[i];
    EXPECT_EQ(a.to_uri_with_keys(), b.to_uri_with_keys());
    EXPECT_EQ(a.sni, b.sni);
    EXPECT_EQ(a.host_header, b.host_header);
    EXPECT_EQ(a.shaping, b.shaping);
  }
  EXPECT_EQ(parsed->endpoints[2].shaping, "popcount");
}

TEST(BootstrapString, ADamagedCopyIsReportedAsDamaged) {
  auto text = *encode_bootstrap(sample());
  for (std::size_t position : {std::size_t{12}, text.size() / 2, text.size() - 1}) {
    std::string damaged = text;
    damaged[position] = damaged[position] == 'A' ? 'B' : 'A';
    auto parsed = parse_bootstrap(damaged);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("copy it again"), std::string::npos) << parsed.error().message;
  }
  auto truncated = parse_bootstrap(text.substr(0, text.size() - 10));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, Errc::invalid_argument);
}

TEST(BootstrapString, SaysWhatIsWrongWithForeignInput) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (auto [text, says] : {Case{"https://example.org", "not a samizdat bootstrap string"},
                            Case{"samizdat2:AAAA", "update the app"}, Case{"samizdat1:@@@", "copy it again"},
                            Case{"samizdat1:", "too short"}, Case{"", "must start with"}}) {
    auto parsed = parse_bootstrap(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().message.find(says), std::string::npos)
        << text << " -> " << parsed.error().message;
  }
}

TEST(BootstrapString, RefusesToEncodeWhatItCannotCarry) {
  Bootstrap empty;
  EXPECT_FALSE(encode_bootstrap(empty).ok());
  auto bootstrap = sample();
  bootstrap.endpoints[0].port = 0;
  EXPECT_FALSE(encode_bootstrap(bootstrap).ok());
  bootstrap = sample();
  bootstrap.endpoints[0].host = "has space";
  EXPECT_FALSE(encode_bootstrap(bootstrap).ok());
}

}  // namespace
}  // namespace samizdat::reach
