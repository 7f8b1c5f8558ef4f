#include "reach/bootstrap.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "crypto/secret.hpp"
#include "util/encoding.hpp"

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

Bootstrap with_channels() {
  auto bootstrap = sample();
  bootstrap.map_root.emplace();
  crypto::fill_random(*bootstrap.map_root);
  bootstrap.mirrors = {
      MapMirror{"https://203.0.113.7:8443/samizdat/map.bin", "front.example", "hidden.example"},
      MapMirror{"https://mirror.example.org/map.bin", "", ""},
      MapMirror{"https://cdn.example.net/m", "", "origin.example.org"}};
  bootstrap.dns_names = {"map.example.org", "m.example.net"};
  return bootstrap;
}

// The body (version .. last channel) of a string, and the string again for a changed body
// with a correct checksum: how a hand-made (or future) string would look.
Bytes body_of(const std::string& text) {
  auto bytes = *base64url_decode(std::string_view(text).substr(kBootstrapPrefix.size()));
  bytes.resize(bytes.size() - 4);
  return bytes;
}
std::string with_checksum(Bytes body) {
  static constexpr std::string_view kLabel = "samizdat-bootstrap-v1";
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, 32);
  crypto_generichash_blake2b_update(&state, reinterpret_cast<const std::uint8_t*>(kLabel.data()),
                                    kLabel.size());
  crypto_generichash_blake2b_update(&state, body.data(), body.size());
  std::uint8_t digest[32];
  crypto_generichash_blake2b_final(&state, digest, sizeof digest);
  append(body, ByteView(digest, 4));
  return std::string(kBootstrapPrefix) + base64url_encode(body);
}

TEST(BootstrapString, CarriesMapMirrorsWithFrontingAndDnsNames) {
  auto bootstrap = with_channels();
  auto text = encode_bootstrap(bootstrap);
  ASSERT_TRUE(text.ok()) << text.error().describe();
  EXPECT_EQ(body_of(*text)[0], 3);  // version 3 only when there are channels
  auto parsed = parse_bootstrap(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_TRUE(parsed->map_root.has_value());
  EXPECT_EQ(*parsed->map_root, *bootstrap.map_root);
  ASSERT_EQ(parsed->mirrors.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed->mirrors[i].url, bootstrap.mirrors[i].url);
    EXPECT_EQ(parsed->mirrors[i].front_sni, bootstrap.mirrors[i].front_sni);
    EXPECT_EQ(parsed->mirrors[i].front_host, bootstrap.mirrors[i].front_host);
  }
  EXPECT_EQ(parsed->dns_names, bootstrap.dns_names);
  EXPECT_EQ(parsed->endpoints.size(), 3u);
  // Compact: the channels cost their text plus two bytes each, base64url-expanded.
  auto without = bootstrap;
  without.mirrors.clear();
  without.dns_names.clear();
  auto shorter = *encode_bootstrap(without);
  EXPECT_EQ(body_of(shorter)[0], 2);
  std::size_t text_bytes = 1;
  for (const auto& m : bootstrap.mirrors)
    text_bytes += 2 + m.url.size() + (m.front_sni.empty() ? 0 : 2 + m.front_sni.size()) +
                  (m.front_host.empty() ? 0 : 2 + m.front_host.size());
  for (const auto& n : bootstrap.dns_names) text_bytes += 2 + n.size();
  EXPECT_EQ(body_of(*text).size(), body_of(shorter).size() + text_bytes);
}

TEST(BootstrapString, OlderStringsStillParseWithoutChannels) {
  auto v1 = *encode_bootstrap(sample());
  auto v2_source = with_channels();
  v2_source.mirrors.clear();
  v2_source.dns_names.clear();
  auto v2 = *encode_bootstrap(v2_source);
  for (const auto& text : {v1, v2}) {
    auto parsed = parse_bootstrap(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    EXPECT_TRUE(parsed->mirrors.empty());
    EXPECT_TRUE(parsed->dns_names.empty());
  }
}

TEST(BootstrapString, RefusesChannelsItCannotVerifyOrCarry) {
  auto bootstrap = with_channels();
  bootstrap.map_root.reset();  // nothing would verify what the mirrors serve
  EXPECT_FALSE(encode_bootstrap(bootstrap).ok());
  bootstrap = with_channels();
  bootstrap.mirrors[0].url = "http://plain.example/map.bin";
  EXPECT_FALSE(encode_bootstrap(bootstrap).ok());
  bootstrap = with_channels();
  bootstrap.dns_names.push_back("has space.example");
  EXPECT_FALSE(encode_bootstrap(bootstrap).ok());
  bootstrap = with_channels();
  bootstrap.dns_names.assign(kMaxBootstrapDnsNames + 1, "n.example");
  EXPECT_FALSE(encode_bootstrap(bootstrap).ok());
}

TEST(BootstrapString, RefusesMalformedChannelsWithAClearMessage) {
  auto bootstrap = with_channels();
  bootstrap.mirrors = {MapMirror{"https://a.example/m", "s.example", ""}};
  bootstrap.dns_names = {"n.example"};
  auto body = body_of(*encode_bootstrap(bootstrap));
  // The channels are the last bytes: count, 5 "https://a.example/m", 6 "s.example", 8 "n.example".
  const std::size_t channels = body.size() - (1 + 2 + 19 + 2 + 9 + 2 + 9);
  ASSERT_EQ(body[channels], 3);
  ASSERT_EQ(body[channels + 1], 5);
  auto expect_refused = [](const Bytes& changed, const char* says) {
    auto parsed = parse_bootstrap(with_checksum(changed));
    ASSERT_FALSE(parsed.ok()) << says;
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
    EXPECT_NE(parsed.error().message.find(says), std::string::npos) << parsed.error().message;
  };
  auto changed = body;
  changed[channels + 1] = 9;  // a channel this version does not know
  expect_refused(changed, "update the app");
  changed = body;
  changed[channels + 1] = 6;  // an SNI before any mirror
  expect_refused(changed, "out of order");
  changed = body;
  changed[channels] = 4;  // one more channel than there is
  expect_refused(changed, "incomplete");
  changed = body;
  changed[channels] = 0;
  expect_refused(changed, "lists none");
  changed = body;
  changed[channels + 2 + 1 + 4] = 'x';  // "httpx://"
  expect_refused(changed, "https://");
  changed = body;
  changed.push_back(0);
  expect_refused(changed, "unexpected bytes");
  changed = body;
  changed.resize(channels);  // version 3 without its channels
  expect_refused(changed, "incomplete");
}

}  // namespace
}  // namespace samizdat::reach
