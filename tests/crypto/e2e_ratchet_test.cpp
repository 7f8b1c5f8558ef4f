#include <gtest/gtest.h>

#include "crypto/e2e/ratchet_session.hpp"
#include "e2e_session_pair.hpp"

namespace samizdat::crypto::e2e {
namespace {

TEST(Ratchet, ExchangesMessagesBothWays) {
  SessionPair p;
  EXPECT_EQ(std::string(as_chars(p.establish("hi"))), "hi");
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) {
      std::string text = "bob " + std::to_string(round) + "." + std::to_string(i);
      EXPECT_EQ(text_of(p.alice->decrypt(p.bob->encrypt(as_bytes(text)).value())), text);
    }
    std::string text = "alice " + std::to_string(round);
    EXPECT_EQ(text_of(p.bob->decrypt(p.alice->encrypt(as_bytes(text)).value())), text);
  }
  EXPECT_EQ(p.alice->remote_identity(), p.bob_identity.public_key);
  EXPECT_EQ(p.bob->remote_identity(), p.alice_identity.public_key);
}

TEST(Ratchet, InitiatorSendsPrekeyMessagesUntilTheFirstReply) {
  SessionPair p;
  p.establish();
  EXPECT_TRUE(p.alice->awaiting_first_reply());
  Bytes second = p.alice->encrypt(as_bytes("still waiting")).value();
  EXPECT_EQ(peek_message_type(second).value(), MessageType::prekey_message);
  EXPECT_EQ(text_of(p.bob->decrypt(second)), "still waiting");  // the existing session takes it
  EXPECT_EQ(text_of(p.alice->decrypt(p.bob->encrypt(as_bytes("reply")).value())), "reply");
  EXPECT_FALSE(p.alice->awaiting_first_reply());
  Bytes third = p.alice->encrypt(as_bytes("normal now")).value();
  EXPECT_EQ(peek_message_type(third).value(), MessageType::message);
  EXPECT_EQ(text_of(p.bob->decrypt(third)), "normal now");
}

TEST(Ratchet, AcceptReportsTheOneTimePrekeyToDeleteAndAReplayedFirstMessageCannotReuseIt) {
  SessionPair p;
  p.alice.emplace(RatchetSession::initiate(p.alice_identity, p.bob_bundle()).value());
  Bytes first = p.alice->encrypt(as_bytes("first")).value();
  auto prekey = PreKeyMessage::parse(first).value();
  auto accepted = RatchetSession::accept(p.bob_identity, p.bob_signed_prekey, &p.bob_one_time_prekey, prekey);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->consumed_one_time_prekey_id, std::optional<PreKeyId>(100));
  // The client deleted OPK 100; a replay of the first message finds no key to start a second session.
  auto replayed = RatchetSession::accept(p.bob_identity, p.bob_signed_prekey, nullptr, prekey);
  EXPECT_EQ(replayed.error().code, Errc::not_found);
  // Given to the established session it is a duplicate.
  EXPECT_EQ(accepted->session.decrypt(first).error().code, Errc::replay);
}

TEST(Ratchet, ATamperedFirstMessageStartsNoSession) {
  SessionPair p;
  p.alice.emplace(RatchetSession::initiate(p.alice_identity, p.bob_bundle()).value());
  Bytes first = p.alice->encrypt(as_bytes("first")).value();
  for (std::size_t i = 1; i < first.size(); ++i) {
    Bytes tampered = first;
    tampered[i] ^= 0x04;
    auto parsed = PreKeyMessage::parse(tampered);
    if (!parsed.ok()) continue;
    const OneTimePreKey* opk =
        parsed->x3dh.one_time_prekey_id == p.bob_one_time_prekey.id ? &p.bob_one_time_prekey : nullptr;
    auto accepted = RatchetSession::accept(p.bob_identity, p.bob_signed_prekey, opk, *parsed);
    EXPECT_FALSE(accepted.ok()) << "byte " << i << " flipped and a session started";
  }
  auto untouched = RatchetSession::accept(p.bob_identity, p.bob_signed_prekey, &p.bob_one_time_prekey,
                                          PreKeyMessage::parse(first).value());
  EXPECT_EQ(text_of(Result<Bytes>(untouched.value().plaintext)), "first");
}

TEST(Ratchet, APrekeyMessageOfAnotherSessionIsReportedNotDecrypted) {
  SessionPair p;
  p.establish();
  auto other = RatchetSession::initiate(p.alice_identity, p.bob_bundle()).value();
  auto result = p.bob->decrypt(other.encrypt(as_bytes("new session")).value());
  EXPECT_EQ(result.error().code, Errc::not_found);
}

TEST(Ratchet, DecryptsOutOfOrderMessagesExactlyOnce) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  std::vector<Bytes> wire;
  for (int i = 0; i < 6; ++i) wire.push_back(p.alice->encrypt(as_bytes("m" + std::to_string(i))).value());
  for (int i : {4, 1, 5, 0, 3, 2}) {
    EXPECT_EQ(text_of(p.bob->decrypt(wire[i])), "m" + std::to_string(i));
  }
  EXPECT_EQ(p.bob->skipped_key_count(), 0u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(p.bob->decrypt(wire[i]).error().code, Errc::replay) << i;
}

TEST(Ratchet, LateMessagesFromAnEarlierChainStillDecryptOnceAfterTheRatchetMoved) {
  SessionPair p;
  p.establish();
  Bytes late = p.alice->encrypt(as_bytes("late")).value();  // never delivered until the end
  p.alice->decrypt(p.bob->encrypt(as_bytes("b1")).value()).value();
  Bytes a2 = p.alice->encrypt(as_bytes("a2")).value();
  EXPECT_EQ(text_of(p.bob->decrypt(a2)), "a2");
  p.alice->decrypt(p.bob->encrypt(as_bytes("b2")).value()).value();
  EXPECT_EQ(text_of(p.bob->decrypt(p.alice->encrypt(as_bytes("a3")).value())), "a3");
  EXPECT_EQ(text_of(p.bob->decrypt(late)), "late");
  EXPECT_EQ(p.bob->decrypt(late).error().code, Errc::replay);
  EXPECT_EQ(p.bob->decrypt(a2).error().code, Errc::replay);  // a finished chain
}

TEST(Ratchet, TamperingAnywhereFailsAndLeavesTheStateExactlyAsBefore) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  for (bool new_chain : {false, true}) {
    if (new_chain) p.alice->decrypt(p.bob->encrypt(as_bytes("turn")).value()).value();
    Bytes wire = p.alice->encrypt(as_bytes("the real message")).value();
    Bytes before = state_of(*p.bob);
    for (std::size_t i = 0; i < wire.size(); ++i) {
      Bytes tampered = wire;
      tampered[i] ^= 0x20;
      auto result = p.bob->decrypt(tampered);
      ASSERT_FALSE(result.ok()) << "byte " << i << " flipped and still decrypted";
      if (i >= 1 + kMessageHeaderSize) {
        EXPECT_EQ(result.error().code, Errc::auth_failed) << i;
      }
      ASSERT_EQ(state_of(*p.bob), before) << "state changed after failure at byte " << i;
    }
    EXPECT_EQ(p.bob->decrypt(Bytes(wire.begin(), wire.end() - 1)).error().code, Errc::auth_failed);
    EXPECT_FALSE(p.bob->decrypt(Bytes(wire.begin(), wire.begin() + 20)).ok());
    EXPECT_FALSE(p.bob->decrypt({}).ok());
    EXPECT_EQ(state_of(*p.bob), before);
    EXPECT_EQ(text_of(p.bob->decrypt(wire)), "the real message");
  }
}

TEST(Ratchet, AMessageTooFarAheadFailsCleanlyAndTheSessionCarriesOn) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  std::vector<Bytes> wire;
  for (std::uint32_t i = 0; i <= kMaxSkipPerChain + 1; ++i)
    wire.push_back(p.alice->encrypt(as_bytes("x")).value());
  Bytes before = state_of(*p.bob);
  auto far = p.bob->decrypt(wire.back());
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().code, Errc::limit_exceeded);
  EXPECT_EQ(state_of(*p.bob), before);
  EXPECT_EQ(text_of(p.bob->decrypt(wire[1])), "x");  // now within reach
  EXPECT_EQ(text_of(p.bob->decrypt(wire.back())), "x");
  EXPECT_EQ(text_of(p.bob->decrypt(wire[0])), "x");
  EXPECT_EQ(text_of(p.alice->decrypt(p.bob->encrypt(as_bytes("still here")).value())), "still here");
}

TEST(Ratchet, ALongLostBurstInAnEarlierChainDoesNotWedgeTheSession) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  // Only the first of a long burst arrives; the rest are lost for good.
  EXPECT_EQ(text_of(p.bob->decrypt(p.alice->encrypt(as_bytes("first")).value())), "first");
  for (std::uint32_t i = 0; i < kMaxSkipPerChain + 500; ++i) (void)p.alice->encrypt(as_bytes("lost")).value();
  // Bob answers with a new ratchet key; Alice's next chain has a PN far beyond Bob's position:
  // Bob keeps kMaxSkipPerChain keys of the old chain, abandons the rest, and carries on.
  EXPECT_EQ(text_of(p.alice->decrypt(p.bob->encrypt(as_bytes("anyone?")).value())), "anyone?");
  EXPECT_EQ(text_of(p.bob->decrypt(p.alice->encrypt(as_bytes("yes")).value())), "yes");
  EXPECT_EQ(p.bob->skipped_key_count(), std::size_t{kMaxSkipPerChain});
  EXPECT_EQ(text_of(p.alice->decrypt(p.bob->encrypt(as_bytes("good")).value())), "good");
}

TEST(Ratchet, SkippedKeysAreBoundedInTotalWithTheOldestEvicted) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  Bytes oldest;
  for (int chain = 0; chain < 3; ++chain) {
    std::vector<Bytes> wire;
    for (std::uint32_t i = 0; i < 900; ++i) wire.push_back(p.alice->encrypt(as_bytes("m")).value());
    if (chain == 0) oldest = wire[0];
    ASSERT_TRUE(p.bob->decrypt(wire.back()).ok());  // skips 899
    p.alice->decrypt(p.bob->encrypt(as_bytes("turn")).value()).value();
  }
  EXPECT_EQ(p.bob->skipped_key_count(), kMaxSkippedKeys);
  EXPECT_EQ(p.bob->decrypt(oldest).error().code, Errc::replay);  // evicted: gone for good
}

TEST(Ratchet, ForwardSecrecyAStateCopiedAfterDecryptionCannotDecryptAgain) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  Bytes skipped = p.alice->encrypt(as_bytes("one")).value();
  Bytes in_order = p.alice->encrypt(as_bytes("two")).value();
  ASSERT_TRUE(p.bob->decrypt(in_order).ok());
  ASSERT_TRUE(p.bob->decrypt(skipped).ok());  // used a skipped key
  auto stolen = RatchetSession::deserialize(p.bob->serialize().view()).value();
  EXPECT_FALSE(stolen.decrypt(in_order).ok());
  EXPECT_FALSE(stolen.decrypt(skipped).ok());
  EXPECT_EQ(stolen.skipped_key_count(), 0u);
}

TEST(Ratchet, PostCompromiseAStolenStateStopsWorkingAfterARatchetStepEachWay) {
  SessionPair p;
  p.establish();
  p.alice->decrypt(p.bob->encrypt(as_bytes("ack")).value()).value();
  RatchetSession attacker = p.alice->clone();
  // The attacker sees all traffic and keeps its copy up to date with what it can decrypt.
  Bytes a1 = p.alice->encrypt(as_bytes("a1")).value();
  ASSERT_TRUE(p.bob->decrypt(a1).ok());
  Bytes b1 = p.bob->encrypt(as_bytes("b1")).value();
  ASSERT_TRUE(p.alice->decrypt(b1).ok());
  EXPECT_EQ(text_of(attacker.decrypt(b1)), "b1");       // the compromise is real before healing
  Bytes a2 = p.alice->encrypt(as_bytes("a2")).value();  // Alice's fresh ratchet key
  ASSERT_TRUE(p.bob->decrypt(a2).ok());
  Bytes b2 = p.bob->encrypt(as_bytes("b2")).value();
  EXPECT_EQ(text_of(p.alice->decrypt(b2)), "b2");
  auto stolen = attacker.decrypt(b2);
  EXPECT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.error().code, Errc::auth_failed);
  EXPECT_FALSE(attacker.decrypt(p.bob->encrypt(as_bytes("b3")).value()).ok());
}

TEST(Ratchet, SerializedStateRoundTripsMidConversationIncludingSkippedKeys) {
  SessionPair p;
  p.establish();
  std::vector<Bytes> wire;
  for (int i = 0; i < 6; ++i) wire.push_back(p.alice->encrypt(as_bytes("m" + std::to_string(i))).value());
  ASSERT_TRUE(p.bob->decrypt(wire[5]).ok());
  EXPECT_EQ(p.bob->skipped_key_count(), 5u);  // wire[0..4]
  auto bytes = p.bob->serialize();
  auto restored = RatchetSession::deserialize(bytes.view());
  ASSERT_TRUE(restored.ok()) << restored.error().describe();
  EXPECT_EQ(state_of(*restored), to_bytes(bytes.view()));
  for (int i : {3, 1, 4, 0, 2}) EXPECT_EQ(text_of(restored->decrypt(wire[i])), "m" + std::to_string(i));
  EXPECT_EQ(text_of(p.alice->decrypt(restored->encrypt(as_bytes("back")).value())), "back");
  auto alice_restored = RatchetSession::deserialize(p.alice->serialize().view()).value();
  EXPECT_EQ(text_of(restored->decrypt(alice_restored.encrypt(as_bytes("again")).value())), "again");
}

TEST(Ratchet, DamagedStateIsRejectedNotLoaded) {
  SessionPair p;
  p.establish();
  Bytes wire = p.alice->encrypt(as_bytes("m")).value();
  (void)wire;
  Bytes good = state_of(*p.alice);
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto result = RatchetSession::deserialize(ByteView(good).first(n));
    ASSERT_FALSE(result.ok()) << "truncated to " << n;
    EXPECT_EQ(result.error().code, Errc::malformed);
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(RatchetSession::deserialize(longer).error().code, Errc::malformed);
  Bytes bad_flags = good;
  bad_flags[5] |= 0x80;
  EXPECT_EQ(RatchetSession::deserialize(bad_flags).error().code, Errc::malformed);
  Bytes bad_version = good;
  bad_version[4] = 9;
  EXPECT_EQ(RatchetSession::deserialize(bad_version).error().code, Errc::malformed);
}

TEST(Ratchet, OversizedPlaintextIsRefused) {
  SessionPair p;
  p.establish();
  Bytes big(kMaxMessagePlaintextSize + 1, 'x');
  EXPECT_EQ(p.alice->encrypt(big).error().code, Errc::limit_exceeded);
}

}  // namespace
}  // namespace samizdat::crypto::e2e
