#include "censor/dpi/fully_encrypted_rule.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "censor/dpi/tls_client_hello.hpp"

namespace samizdat::censor {
namespace {

// 0xF0 has popcount 4 and is not printable; 'e' (0x65) has popcount 4 and is printable,
// so these fillers keep Ex1 out of the way while a test aims at one exemption.
constexpr std::uint8_t kOpaque = 0xF0;
constexpr std::uint8_t kPrintable = 'e';

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  randombytes_buf(out.data(), out.size());
  return out;
}

TEST(FullyEncryptedRule, FlagsOneThousandRandomBytesInMostRuns) {
  ASSERT_GE(sodium_init(), 0);
  int flagged = 0;
  constexpr int kRuns = 500;
  for (int i = 0; i < kRuns; ++i) flagged += judge_first_packet(random_bytes(1000)).suspect ? 1 : 0;
  // Only Ex2 (first six bytes printable, ~0.26%) realistically exempts random data.
  EXPECT_GE(flagged, kRuns * 95 / 100);
}

TEST(FullyEncryptedRule, ExemptsATlsClientHello) {
  auto v = judge_first_packet(build_client_hello("www.example.com"));
  EXPECT_FALSE(v.suspect);
}

TEST(FullyEncryptedRule, ExemptsAnHttpRequest) {
  auto v = judge_first_packet(as_bytes("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  EXPECT_FALSE(v.suspect);
}

TEST(FullyEncryptedRule, Ex1ExemptsLowAndHighPopcount) {
  EXPECT_EQ(judge_first_packet(Bytes(100, 0x00)).exemption, Exemption::ex1_popcount);
  EXPECT_EQ(judge_first_packet(Bytes(100, 0xFF)).exemption, Exemption::ex1_popcount);
  auto v = judge_first_packet(Bytes(100, 0x03));  // popcount 2
  EXPECT_EQ(v.exemption, Exemption::ex1_popcount);
  EXPECT_DOUBLE_EQ(v.popcount_per_byte, 2.0);
}

TEST(FullyEncryptedRule, Ex2ExemptsSixPrintableBytesUpFront) {
  Bytes payload(100, kOpaque);
  for (int i = 0; i < 6; ++i) payload[i] = kPrintable;
  EXPECT_EQ(judge_first_packet(payload).exemption, Exemption::ex2_printable_prefix);
  payload[5] = kOpaque;  // five are not enough
  EXPECT_TRUE(judge_first_packet(payload).suspect);
}

TEST(FullyEncryptedRule, Ex3ExemptsMostlyPrintablePayloads) {
  Bytes payload;
  for (int i = 0; i < 99; ++i)
    payload.push_back(i % 3 == 0 ? kOpaque : kPrintable);  // 2/3 printable, runs of 2
  auto v = judge_first_packet(payload);
  EXPECT_EQ(v.exemption, Exemption::ex3_mostly_printable);
  EXPECT_GT(v.printable_fraction, 0.5);
}

TEST(FullyEncryptedRule, Ex4ExemptsARunOfMoreThanTwentyPrintableBytes) {
  Bytes payload(10, kOpaque);
  payload.insert(payload.end(), 21, kPrintable);
  payload.insert(payload.end(), 69, kOpaque);
  EXPECT_EQ(judge_first_packet(payload).exemption, Exemption::ex4_printable_run);
  payload[20] = kOpaque;  // split into runs of 10 and 10
  EXPECT_TRUE(judge_first_packet(payload).suspect);
}

TEST(FullyEncryptedRule, Ex5ExemptsTlsAndHttpStarts) {
  Bytes tls{0x16, 0x03, 0x01};
  tls.insert(tls.end(), 97, kOpaque);
  EXPECT_EQ(judge_first_packet(tls).exemption, Exemption::ex5_protocol);
  Bytes http = to_bytes("GET ");
  http.insert(http.end(), 96, kOpaque);
  EXPECT_EQ(judge_first_packet(http).exemption, Exemption::ex5_protocol);
  Bytes neither{0x16, 0x02, 0x01};
  neither.insert(neither.end(), 97, kOpaque);
  EXPECT_TRUE(judge_first_packet(neither).suspect);
}

TEST(FullyEncryptedRule, EmptyPayloadIsNotJudgedSuspect) { EXPECT_FALSE(judge_first_packet({}).suspect); }

}  // namespace
}  // namespace samizdat::censor
