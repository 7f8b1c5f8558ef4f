#include "censor/dpi/tls_client_hello.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace samizdat::censor {
namespace {

TEST(TlsClientHello, ReadsTheServerNameItWrote) {
  ASSERT_GE(sodium_init(), 0);
  auto hello = build_client_hello("Media.Msg.Example");
  auto sni = parse_client_hello_sni(hello);
  ASSERT_TRUE(sni.ok()) << sni.error().message;
  EXPECT_EQ(*sni, "media.msg.example");
}

TEST(TlsClientHello, ReportsAHelloWithoutSniAsNotFound) {
  auto sni = parse_client_hello_sni(build_client_hello(""));
  ASSERT_FALSE(sni.ok());
  EXPECT_EQ(sni.error().code, Errc::not_found);
}

TEST(TlsClientHello, RejectsEveryTruncationWithoutReadingPastTheEnd) {
  auto hello = build_client_hello("twitter.example");
  const auto full = parse_client_hello_sni(hello);
  ASSERT_TRUE(full.ok());
  for (std::size_t n = 0; n < hello.size(); ++n) {
    auto sni = parse_client_hello_sni(ByteView(hello).subspan(0, n));
    // A prefix that still holds the whole name may succeed; anything else must fail cleanly.
    if (sni.ok()) EXPECT_EQ(*sni, *full);
  }
}

TEST(TlsClientHello, RejectsNonTlsBytes) {
  EXPECT_EQ(parse_client_hello_sni(as_bytes("GET / HTTP/1.1\r\n\r\n")).error().code, Errc::malformed);
  Bytes junk(300, 0x16);
  EXPECT_FALSE(parse_client_hello_sni(junk).ok());
}

}  // namespace
}  // namespace samizdat::censor
