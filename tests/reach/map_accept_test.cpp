#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "map_test_support.hpp"
#include "reach/map/signed_map.hpp"

namespace samizdat::reach {
namespace {

using ::testing::HasSubstr;
using namespace samizdat::reach::testing;

TEST(MapAccept, AcceptsAValidMapAndKeepsEveryField) {
  Operator op;
  auto map = sample_map(7);
  map.endpoints[0].endpoint.path = "/secret";
  map.endpoints[0].endpoint.sni = "front.example";
  map.endpoints[0].endpoint.host_header = "real.example";
  map.endpoints[0].endpoint.shaping = "http";
  map.endpoints[0].weight = 5;
  map.endpoints[0].regions = {"ru", "by"};
  map.endpoints[0].not_before = kNow - 10;
  map.endpoints[0].expires_at = kNow + 10;
  auto bytes = op.sign(map);
  LogCapture log;
  auto accepted = accept_map(nullptr, bytes, op.root.public_key, kNow);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_THAT(log.text(), HasSubstr("map v7 accepted: 3 endpoints"));
  EXPECT_EQ(accepted->map.version, 7u);
  EXPECT_EQ(accepted->bytes, bytes);
  EXPECT_EQ(accepted->digest, map_digest(bytes));
  const auto& first = accepted->map.endpoints[0];
  EXPECT_EQ(first.endpoint.to_uri_with_keys(), map.endpoints[0].endpoint.to_uri_with_keys());
  EXPECT_EQ(first.endpoint.sni, "front.example");
  EXPECT_EQ(first.endpoint.host_header, "real.example");
  EXPECT_EQ(first.weight, 5u);
  EXPECT_EQ(first.regions, (std::vector<std::string>{"ru", "by"}));
  EXPECT_EQ(first.expires_at, kNow + 10);
  EXPECT_EQ(accepted->map.mirrors[0].front_sni, "cdn.example");
  EXPECT_EQ(accepted->map.dns_names[0], "map.samizdat.example");
  EXPECT_EQ(accepted->map.usable_endpoints(kNow).size(), 3u);
  EXPECT_EQ(accepted->map.usable_endpoints(kNow + 10).size(), 2u) << "the first endpoint expired";
}

TEST(MapAccept, RejectsAMapFromAnotherOperatorsRoot) {
  Operator op;
  Operator stranger;
  LogCapture log;
  auto result = accept_map(nullptr, stranger.sign(sample_map(3)), op.root.public_key, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::auth_failed);
  EXPECT_THAT(log.text(),
              HasSubstr("map v3 rejected: signing key certificate is not signed by the pinned root key"));
}

TEST(MapAccept, RejectsAMapWhoseSignatureDoesNotVerify) {
  Operator op;
  auto bytes = op.sign(sample_map(3));
  bytes.back() ^= 0x01;  // the signature is the last field
  LogCapture log;
  auto result = accept_map(nullptr, bytes, op.root.public_key, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(log.text(), HasSubstr("map v3 rejected: signature does not verify"));
}

TEST(MapAccept, RejectsAMapSignedByAnUncertifiedKey) {
  Operator op;
  auto other = crypto::Ed25519KeyPair::generate();
  EXPECT_FALSE(sign_map(sample_map(3), op.certificate, other).ok())
      << "signing refuses a mismatched certificate";
}

TEST(MapAccept, RejectsOlderAndEqualVersionsWithTheVersionsInTheLogLine) {
  Operator op;
  auto v14 = *accept_map(nullptr, op.sign(sample_map(14)), op.root.public_key, kNow);
  LogCapture log;
  auto older = accept_map(&v14, op.sign(sample_map(12)), op.root.public_key, kNow);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, Errc::replay);
  EXPECT_THAT(log.text(), HasSubstr("map v12 rejected: older than v14 we have"));
  auto same = accept_map(&v14, op.sign(sample_map(14)), op.root.public_key, kNow);
  ASSERT_FALSE(same.ok());
  EXPECT_THAT(log.text(), HasSubstr("map v14 rejected: same version as the v14 we have"));
  auto newer = accept_map(&v14, op.sign(sample_map(15)), op.root.public_key, kNow);
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(newer->map.version, 15u);
}

TEST(MapAccept, RejectsAnExpiredMap) {
  Operator op;
  auto map = sample_map(5);
  auto bytes = op.sign(map);
  LogCapture log;
  auto result = accept_map(nullptr, bytes, op.root.public_key, map.expires_at);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(log.text(), HasSubstr("map v5 rejected: expired at"));
}

TEST(MapAccept, AcceptsARotatedSigningKeyAndRefusesTheOldOneAfterItsValidity) {
  Operator op(kNow - 1000, kNow + 1000);  // old signing key, expires at kNow + 1000
  auto fresh = crypto::Ed25519KeyPair::generate();
  auto fresh_certificate = *certify_signing_key(op.root, fresh.public_key, kNow + 500, kNow + 100000);

  auto v1 = *accept_map(nullptr, op.sign(sample_map(1)), op.root.public_key, kNow);
  auto v2_map = sample_map(2);
  v2_map.issued_at = kNow + 600;
  auto v2 = accept_map(&v1, *sign_map(v2_map, fresh_certificate, fresh), op.root.public_key, kNow + 600);
  ASSERT_TRUE(v2.ok()) << v2.error().message;

  // After the old key's validity, a map it signs (even a newer one) is refused.
  auto v3_map = sample_map(3);
  v3_map.issued_at = kNow + 900;
  auto v3_bytes = op.sign(v3_map);
  LogCapture log;
  auto v3 = accept_map(&*v2, v3_bytes, op.root.public_key, kNow + 1001);
  ASSERT_FALSE(v3.ok());
  EXPECT_THAT(log.text(), HasSubstr("map v3 rejected: signing key expired at"));
}

TEST(MapAccept, RejectsAMapIssuedOutsideItsSigningKeyValidity) {
  Operator op(kNow - 100, kNow + 100);
  auto map = sample_map(4);
  map.issued_at = kNow - 200;  // backdated before the key existed
  LogCapture log;
  EXPECT_FALSE(accept_map(nullptr, op.sign(map), op.root.public_key, kNow).ok());
  EXPECT_THAT(log.text(), HasSubstr("map v4 rejected: issued outside its signing key's validity"));
}

TEST(MapAccept, RejectsEveryTruncationWithATruncatedLogLine) {
  Operator op;
  auto bytes = op.sign(sample_map(9));
  LogCapture log;
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    auto result = accept_map(nullptr, ByteView(bytes.data(), length), op.root.public_key, kNow);
    ASSERT_FALSE(result.ok()) << "prefix of " << length << " bytes";
  }
  EXPECT_THAT(log.text(), HasSubstr("map rejected: map truncated"));
}

TEST(MapAccept, RejectsEverySingleBitFlip) {
  Operator op;
  auto bytes = op.sign(sample_map(9, 1));
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto flipped = bytes;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    auto result = verify_map(flipped, op.root.public_key, kNow);
    ASSERT_FALSE(result.ok()) << "bit " << bit << " flipped was accepted";
  }
}

TEST(MapImport, RoundTripsThroughTextWithLineBreaksAndRawBytes) {
  Operator op;
  auto bytes = op.sign(sample_map(2));
  auto text = render_map_import(bytes);
  EXPECT_EQ(text.rfind("samizdat-map1:", 0), 0u);
  std::string wrapped;
  for (std::size_t i = 0; i < text.size(); i += 60) wrapped += text.substr(i, 60) + "\n";
  EXPECT_EQ(*parse_map_import("  " + wrapped), bytes);
  EXPECT_EQ(*parse_map_import(std::string(as_chars(bytes))), bytes);
  auto junk = parse_map_import("hello");
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(junk.error().message, HasSubstr("should start with 'samizdat-map1:'"));
  EXPECT_FALSE(parse_map_import("samizdat-map1:!!!").ok());
}

TEST(MapRoot, OldBootstrapStringsPinTheirOperatorKeyAsRoot) {
  Bootstrap bootstrap;
  bootstrap.operator_key.fill(7);
  EXPECT_EQ(map_root_key(bootstrap), bootstrap.operator_key);
}

TEST(MapRoot, ABootstrapStringCarryingAMapRootPinsItAndOldStringsStillParse) {
  Bootstrap bootstrap;
  bootstrap.operator_key.fill(7);
  bootstrap.endpoints.push_back(sample_endpoint("127.0.0.1", 4433).endpoint);
  auto v1 = *encode_bootstrap(bootstrap);
  bootstrap.map_root.emplace();
  bootstrap.map_root->fill(9);
  auto v2 = *encode_bootstrap(bootstrap);
  EXPECT_NE(v1, v2);
  auto parsed_v1 = parse_bootstrap(v1);
  auto parsed_v2 = parse_bootstrap(v2);
  ASSERT_TRUE(parsed_v1.ok() && parsed_v2.ok());
  EXPECT_FALSE(parsed_v1->map_root.has_value());
  EXPECT_EQ(map_root_key(*parsed_v1), bootstrap.operator_key);
  EXPECT_EQ(map_root_key(*parsed_v2), *bootstrap.map_root);
  EXPECT_EQ(parsed_v2->operator_key, bootstrap.operator_key);
  EXPECT_EQ(parsed_v2->endpoints.size(), 1u);
}

}  // namespace
}  // namespace samizdat::reach
