// Envelopes arrive from the server and the local disk; broken ones must be refused
// with an error that says what is wrong.
#include "wire/envelope.hpp"

#include <gtest/gtest.h>

#include "samizdat/store.pb.h"
#include "wire/message_codec.hpp"

namespace samizdat::wire {
namespace {

Envelope valid_envelope() {
  Envelope envelope;
  envelope.set_id(42);
  envelope.set_mailbox(std::string(kMailboxIdSize, 'm'));
  envelope.set_sealed(std::string(300, 's'));
  envelope.set_received_at_ms(1'700'000'000'000);
  envelope.set_expires_at_ms(1'700'000'000'000 + 30LL * 24 * 3600 * 1000);
  return envelope;
}

TEST(Envelope, RoundTripsThroughItsEncoding) {
  const Bytes encoded = serialize_message(valid_envelope());
  auto parsed = parse_envelope(encoded);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->id(), 42u);
  EXPECT_EQ(parsed->mailbox(), std::string(kMailboxIdSize, 'm'));
  EXPECT_EQ(parsed->sealed().size(), 300u);
  EXPECT_EQ(parsed->expires_at_ms(), valid_envelope().expires_at_ms());
}

TEST(Envelope, EveryTruncationIsRefusedWithAClearError) {
  const Bytes encoded = serialize_message(valid_envelope());
  for (std::size_t size = 0; size < encoded.size(); ++size) {
    auto parsed = parse_envelope(ByteView(encoded).first(size));
    ASSERT_FALSE(parsed.ok()) << "a " << size << "-byte prefix was accepted";
    EXPECT_EQ(parsed.error().code, Errc::malformed) << parsed.error().describe();
    EXPECT_FALSE(parsed.error().message.empty());
  }
}

TEST(Envelope, OversizedInputIsRefusedBeforeParsing) {
  Bytes huge(kMaxEnvelopeSize + 1, 0);
  auto parsed = parse_envelope(huge);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::limit_exceeded);
  EXPECT_NE(parsed.error().message.find("envelope"), std::string::npos);
}

TEST(Envelope, OversizedCiphertextIsRefused) {
  Envelope envelope = valid_envelope();
  envelope.set_sealed(std::string(kMaxSealedSize + 1, 's'));
  auto parsed = parse_envelope(serialize_message(envelope));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::limit_exceeded);
}

TEST(Envelope, MissingOrWrongFieldsAreRefused) {
  Envelope short_mailbox = valid_envelope();
  short_mailbox.set_mailbox("short");
  Envelope no_ciphertext = valid_envelope();
  no_ciphertext.clear_sealed();
  Envelope expired_before_received = valid_envelope();
  expired_before_received.set_expires_at_ms(expired_before_received.received_at_ms());
  for (const Envelope& envelope : {short_mailbox, no_ciphertext, expired_before_received}) {
    auto parsed = parse_envelope(serialize_message(envelope));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, Errc::malformed);
  }
}

TEST(Envelope, JunkBytesAreRefusedAsMalformed) {
  const Bytes junk = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  auto parsed = parse_envelope(junk);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::malformed);
}

TEST(StoreRecords, OutboxEntryKeepsTheExactSealedBytesForRetries) {
  OutboxEntry entry;
  entry.set_message_id(std::string(16, 'i'));
  entry.set_mailbox(std::string(32, 'm'));
  entry.set_sealed(std::string("\x00\x01\x02\xff", 4));
  entry.set_attempts(3);
  auto parsed = parse_message<OutboxEntry>(serialize_message(entry), 1 << 20, "outbox entry");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->sealed(), entry.sealed());
  EXPECT_EQ(parsed->attempts(), 3u);

  auto too_big = parse_message<OutboxEntry>(serialize_message(entry), 4, "outbox entry");
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, Errc::limit_exceeded);
  EXPECT_NE(too_big.error().message.find("outbox entry"), std::string::npos);
}

}  // namespace
}  // namespace samizdat::wire
