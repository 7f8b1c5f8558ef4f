// HKDF is hand-written (libsodium 1.0.18 has none): RFC 5869 vectors pin it down.
#include <gtest/gtest.h>

#include "crypto/e2e/hkdf.hpp"
#include "util/encoding.hpp"

namespace samizdat::crypto::e2e {
namespace {

Bytes hex(std::string_view text) { return hex_decode(text).value(); }

std::string hkdf256_hex(std::string_view salt, std::string_view ikm, std::string_view info,
                        std::size_t length) {
  Bytes out(length);
  hkdf_sha256(hex(salt), hex(ikm), hex(info), out);
  return hex_encode(out);
}

TEST(Hkdf, MatchesRfc5869TestCase1) {
  EXPECT_EQ(hkdf256_hex("000102030405060708090a0b0c", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
                        "f0f1f2f3f4f5f6f7f8f9", 42),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, MatchesRfc5869TestCase2WithLongInputs) {
  std::string ikm, salt, info;
  for (int i = 0x00; i <= 0x4f; ++i) ikm += hex_encode(Bytes{static_cast<std::uint8_t>(i)});
  for (int i = 0x60; i <= 0xaf; ++i) salt += hex_encode(Bytes{static_cast<std::uint8_t>(i)});
  for (int i = 0xb0; i <= 0xff; ++i) info += hex_encode(Bytes{static_cast<std::uint8_t>(i)});
  EXPECT_EQ(hkdf256_hex(salt, ikm, info, 82),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
            "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(Hkdf, MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
  EXPECT_EQ(hkdf256_hex("", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", 42),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, Sha512MatchesOpenSslForTheRfcInputs) {
  // `openssl kdf -keylen 42 -kdfopt digest:SHA512 ... HKDF` with the RFC 5869 test case 1 inputs.
  Bytes out(42);
  hkdf_sha512(hex("000102030405060708090a0b0c"), hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
              hex("f0f1f2f3f4f5f6f7f8f9"), out);
  EXPECT_EQ(hex_encode(out),
            "832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c1481579338da362cb8d9f925d7cb");
}

TEST(Hkdf, HmacSha256MatchesRfc4231TestCase2) {
  auto mac = hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"));
  EXPECT_EQ(hex_encode(mac.view()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace samizdat::crypto::e2e
