#include "util/encoding.hpp"

#include <gtest/gtest.h>

namespace samizdat {
namespace {

TEST(Encoding, HexRoundTripsAndRejectsJunk) {
  Bytes data{0x00, 0x7f, 0xff, 0x10};
  EXPECT_EQ(hex_encode(data), "007fff10");
  EXPECT_EQ(*hex_decode("007FFF10"), data);
  EXPECT_FALSE(hex_decode("abc").ok());
  EXPECT_EQ(hex_decode("zz").error().code, Errc::malformed);
}

TEST(Encoding, Base32MatchesRfc4648Vectors) {
  EXPECT_EQ(base32_encode(as_bytes("foobar")), "mzxw6ytboi");
  EXPECT_EQ(base32_encode(as_bytes("f")), "my");
  EXPECT_EQ(*base32_decode("MZXW6YTBOI"), to_bytes("foobar"));
  EXPECT_EQ(*base32_decode("mzxw-6ytb-oi"), to_bytes("foobar"));
  EXPECT_FALSE(base32_decode("mz!").ok());
}

TEST(Encoding, Base64UrlRoundTripsEveryLength) {
  Bytes data;
  for (int n = 0; n < 40; ++n) {
    auto text = base64url_encode(data);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(*base64url_decode(text), data);
    data.push_back(static_cast<std::uint8_t>(n * 37));
  }
  EXPECT_EQ(base64url_encode(as_bytes("foob")), "Zm9vYg");
  EXPECT_FALSE(base64url_decode("Zm9vY").ok());
}

}  // namespace
}  // namespace samizdat
