// Behaviour of Noise handshakes under the conditions a real network produces:
// wrong keys, tampering, truncation, replay, misuse of the state machine.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "crypto/noise/handshake.hpp"

namespace samizdat::crypto::noise {
namespace {

constexpr const char* kIKpsk2 = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
constexpr const char* kNKpsk2 = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b";
constexpr const char* kIK = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
constexpr const char* kNK = "Noise_NK_25519_ChaChaPoly_BLAKE2b";
constexpr const char* kXX = "Noise_XX_25519_ChaChaPoly_BLAKE2b";

// The two devices and the endpoint secret every test shares.
struct Parties {
  X25519KeyPair server = X25519KeyPair::generate();
  X25519KeyPair client = X25519KeyPair::generate();
  Secret<32> psk = Secret<32>::random();
  Bytes prologue = to_bytes("samizdat test prologue");

  HandshakeOptions initiator(const std::string& protocol) const {
    HandshakeOptions options;
    options.protocol_name = protocol;
    options.role = Role::initiator;
    options.prologue = prologue;
    options.local_static = client.clone();
    options.remote_static = server.public_key;
    if (protocol.find("psk") != std::string::npos) options.psks.push_back(psk.clone());
    return options;
  }
  HandshakeOptions responder(const std::string& protocol) const {
    HandshakeOptions options;
    options.protocol_name = protocol;
    options.role = Role::responder;
    options.prologue = prologue;
    options.local_static = server.clone();
    if (protocol.find("psk") != std::string::npos) options.psks.push_back(psk.clone());
    return options;
  }
};

HandshakeState make(HandshakeOptions options) {
  auto state = HandshakeState::create(std::move(options));
  if (!state) ADD_FAILURE() << state.error().describe();
  return std::move(state).value();
}

// What went wrong in a handshake and which side noticed.
struct Failure {
  Error error;
  HandshakeState* noticed_by;
};

// Runs a handshake, letting `tamper(index, bytes)` change message `index` in flight.
// Returns the first error, or nothing if both sides completed.
std::optional<Failure> run(HandshakeState& initiator, HandshakeState& responder,
                           const std::function<void(std::size_t, Bytes&)>& tamper = {}) {
  for (std::size_t index = 0; !initiator.is_complete() || !responder.is_complete(); ++index) {
    auto& writer = initiator.is_my_turn() ? initiator : responder;
    auto& reader = initiator.is_my_turn() ? responder : initiator;
    auto message = writer.write_message(to_bytes("payload " + std::to_string(index)));
    if (!message) return Failure{message.error(), &writer};
    if (tamper) tamper(index, *message);
    auto payload = reader.read_message(*message);
    if (!payload) return Failure{payload.error(), &reader};
    // Without tampering the payload arrives intact. (XX's first payload is plaintext, so a
    // tampered one can be read; the handshake hash then makes the next message fail.)
    if (!tamper) EXPECT_EQ(*payload, to_bytes("payload " + std::to_string(index)));
  }
  return std::nullopt;
}

std::size_t message_count(const char* protocol) { return pattern_for_protocol(protocol)->messages.size(); }

class EveryMainPattern : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Noise, EveryMainPattern, ::testing::Values(kIKpsk2, kNKpsk2, kIK, kNK, kXX));

TEST_P(EveryMainPattern, BothSidesEndWithTheSameHashAndWorkingTransportKeys) {
  Parties parties;
  auto initiator = make(parties.initiator(GetParam()));
  auto responder = make(parties.responder(GetParam()));
  ASSERT_FALSE(run(initiator, responder).has_value());
  EXPECT_TRUE(std::equal(initiator.handshake_hash().begin(), initiator.handshake_hash().end(),
                         responder.handshake_hash().begin(), responder.handshake_hash().end()));
  auto client_keys = initiator.split();
  auto server_keys = responder.split();
  ASSERT_TRUE(client_keys.ok() && server_keys.ok());
  EXPECT_EQ(client_keys->handshake_hash, server_keys->handshake_hash);

  auto up = client_keys->send.encrypt_with_ad({}, to_bytes("hello server"));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(*server_keys->receive.decrypt_with_ad({}, *up), to_bytes("hello server"));
  auto down = server_keys->send.encrypt_with_ad({}, to_bytes("hello client"));
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(*client_keys->receive.decrypt_with_ad({}, *down), to_bytes("hello client"));
  // The two directions use different keys.
  EXPECT_FALSE(equal_constant_time(client_keys->send.key().view(), client_keys->receive.key().view()));
}

TEST(NoiseHandshake, ResponderLearnsTheClientIdentityOnlyInPatternsThatSendIt) {
  Parties parties;
  for (const char* protocol : {kIKpsk2, kXX}) {
    auto initiator = make(parties.initiator(protocol));
    auto responder = make(parties.responder(protocol));
    ASSERT_FALSE(run(initiator, responder).has_value());
    ASSERT_TRUE(responder.remote_static().has_value()) << protocol;
    EXPECT_EQ(*responder.remote_static(), parties.client.public_key) << protocol;
    EXPECT_EQ(*initiator.remote_static(), parties.server.public_key) << protocol;
  }
  auto initiator = make(parties.initiator(kNKpsk2));
  auto responder = make(parties.responder(kNKpsk2));
  ASSERT_FALSE(run(initiator, responder).has_value());
  EXPECT_FALSE(responder.remote_static().has_value()) << "NKpsk2 is anonymous for the client";
}

TEST(NoiseHandshake, WrongPskFailsWithAuthFailedOnTheReadingSide) {
  Parties parties;
  for (const char* protocol : {kIKpsk2, kNKpsk2}) {
    auto options = parties.responder(protocol);
    options.psks[0] = Secret<32>::random();
    auto initiator = make(parties.initiator(protocol));
    auto responder = make(std::move(options));
    auto error = run(initiator, responder);
    ASSERT_TRUE(error.has_value()) << protocol;
    EXPECT_EQ(error->error.code, Errc::auth_failed) << protocol;
    // psk2 is mixed into the responder's reply, so it is the client that notices.
    EXPECT_FALSE(initiator.is_complete());
    EXPECT_EQ(initiator.split().error().code, Errc::protocol);
  }
}

TEST(NoiseHandshake, WrongServerStaticKeyFailsAtTheServerOnTheFirstMessage) {
  Parties parties;
  for (const char* protocol : {kIKpsk2, kNKpsk2, kIK, kNK}) {
    auto options = parties.initiator(protocol);
    options.remote_static = X25519KeyPair::generate().public_key;
    auto initiator = make(std::move(options));
    auto responder = make(parties.responder(protocol));
    auto message = initiator.write_message({});
    ASSERT_TRUE(message.ok());
    auto read = responder.read_message(*message);
    ASSERT_FALSE(read.ok()) << protocol;
    EXPECT_EQ(read.error().code, Errc::auth_failed) << protocol;
  }
}

TEST(NoiseHandshake, DifferentProloguesNeverComplete) {
  Parties parties;
  auto options = parties.responder(kXX);
  options.prologue = to_bytes("another prologue");
  auto initiator = make(parties.initiator(kXX));
  auto responder = make(std::move(options));
  auto error = run(initiator, responder);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error.code, Errc::auth_failed);
}

TEST_P(EveryMainPattern, FlippingAnyBitOfAnyHandshakeMessageMakesTheHandshakeFail) {
  Parties parties;
  for (std::size_t target = 0; target < message_count(GetParam()); ++target) {
    // Learn the message size once, then flip each byte of it in a fresh handshake.
    std::size_t size = 0;
    {
      auto initiator = make(parties.initiator(GetParam()));
      auto responder = make(parties.responder(GetParam()));
      ASSERT_FALSE(run(initiator, responder, [&](std::size_t index, Bytes& message) {
                     if (index == target) size = message.size();
                   }).has_value());
    }
    for (std::size_t position = 0; position < size; ++position) {
      for (std::uint8_t bit : {0x01, 0x80}) {
        auto initiator = make(parties.initiator(GetParam()));
        auto responder = make(parties.responder(GetParam()));
        auto error = run(initiator, responder, [&](std::size_t index, Bytes& message) {
          if (index == target) message[position] ^= bit;
        });
        ASSERT_TRUE(error.has_value()) << GetParam() << " message " << target << " byte " << position;
        EXPECT_EQ(error->error.code, Errc::auth_failed)
            << GetParam() << " message " << target << " byte " << position;
      }
    }
  }
}

TEST_P(EveryMainPattern, TruncatedHandshakeMessagesFailCleanlyAndKillTheHandshake) {
  Parties parties;
  for (std::size_t target = 0; target < message_count(GetParam()); ++target) {
    std::size_t size = 0;
    {
      auto initiator = make(parties.initiator(GetParam()));
      auto responder = make(parties.responder(GetParam()));
      ASSERT_FALSE(run(initiator, responder, [&](std::size_t index, Bytes& message) {
                     if (index == target) size = message.size();
                   }).has_value());
    }
    for (std::size_t keep = 0; keep < size; ++keep) {
      auto initiator = make(parties.initiator(GetParam()));
      auto responder = make(parties.responder(GetParam()));
      Bytes original;
      auto error = run(initiator, responder, [&](std::size_t index, Bytes& message) {
        if (index == target) {
          original = message;
          message.resize(keep);
        }
      });
      ASSERT_TRUE(error.has_value()) << GetParam() << " message " << target << " cut to " << keep;
      EXPECT_TRUE(error->error.code == Errc::malformed || error->error.code == Errc::auth_failed)
          << GetParam() << " message " << target << " cut to " << keep << ": " << error->error.describe();
      // The side that noticed is dead now: it refuses to go on, even with genuine input.
      auto& dead = *error->noticed_by;
      EXPECT_FALSE(dead.is_my_turn());
      EXPECT_EQ(dead.read_message(original).error().code, Errc::protocol);
      EXPECT_EQ(dead.write_message({}).error().code, Errc::protocol);
      EXPECT_EQ(dead.split().error().code, Errc::protocol);
    }
  }
}

TEST(NoiseHandshake, ReplayedFirstMessageCompletesOnlyAFreshResponderSessionNobodyCanUse) {
  // Noise does not stop a responder from accepting a replayed IK first message: the message
  // carries no freshness. What it guarantees is that the replayed session is useless: the
  // responder's reply uses a new ephemeral key, so only the holder of the initiator's
  // ephemeral secret could read it. Rejecting replays is the transport layer's replay cache.
  Parties parties;
  for (const char* protocol : {kIKpsk2, kIK}) {
    auto initiator = make(parties.initiator(protocol));
    auto responder = make(parties.responder(protocol));
    auto first = initiator.write_message(to_bytes("login"));
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(responder.read_message(*first).ok());
    auto reply = responder.write_message({});
    ASSERT_TRUE(reply.ok());
    ASSERT_TRUE(initiator.read_message(*reply).ok());
    auto client_keys = initiator.split();
    ASSERT_TRUE(client_keys.ok());

    auto replay_responder = make(parties.responder(protocol));
    auto replayed = replay_responder.read_message(*first);
    ASSERT_TRUE(replayed.ok()) << "Noise itself accepts a replayed " << protocol << " first message";
    EXPECT_EQ(*replayed, to_bytes("login"));
    auto replay_reply = replay_responder.write_message({});
    ASSERT_TRUE(replay_reply.ok());
    EXPECT_NE(*replay_reply, *reply) << "a fresh responder ephemeral makes a different reply";
    auto replay_keys = replay_responder.split();
    ASSERT_TRUE(replay_keys.ok());
    EXPECT_NE(replay_keys->handshake_hash, client_keys->handshake_hash);

    // Traffic in the replayed session cannot be read with the genuine session's keys, and vice versa.
    auto from_replay = replay_keys->send.encrypt_with_ad({}, to_bytes("secret"));
    ASSERT_TRUE(from_replay.ok());
    EXPECT_EQ(client_keys->receive.decrypt_with_ad({}, *from_replay).error().code, Errc::auth_failed);
    auto from_client = client_keys->send.encrypt_with_ad({}, to_bytes("secret"));
    ASSERT_TRUE(from_client.ok());
    EXPECT_EQ(replay_keys->receive.decrypt_with_ad({}, *from_client).error().code, Errc::auth_failed);
  }
}

TEST(NoiseHandshake, LowOrderEphemeralKeyIsRejectedNotUsed) {
  Parties parties;
  auto initiator = make(parties.initiator(kNKpsk2));
  auto responder = make(parties.responder(kNKpsk2));
  auto message = initiator.write_message({});
  ASSERT_TRUE(message.ok());
  std::fill(message->begin(), message->begin() + 32,
            0);  // a low-order point: the DH output would be all zeros
  auto read = responder.read_message(*message);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Errc::auth_failed);
}

TEST(NoiseHandshake, OutOfTurnCallsAndEarlySplitAreProtocolErrors) {
  Parties parties;
  auto initiator = make(parties.initiator(kIKpsk2));
  auto responder = make(parties.responder(kIKpsk2));
  EXPECT_TRUE(initiator.is_my_turn());
  EXPECT_FALSE(responder.is_my_turn());
  EXPECT_EQ(responder.write_message({}).error().code, Errc::protocol);
  EXPECT_EQ(initiator.split().error().code, Errc::protocol);
  ASSERT_FALSE(run(initiator, responder).has_value());
  EXPECT_EQ(initiator.write_message({}).error().code, Errc::protocol);
  ASSERT_TRUE(initiator.split().ok());
  EXPECT_EQ(initiator.split().error().code, Errc::protocol) << "split() hands out the keys once";
}

TEST(NoiseHandshake, OversizedMessagesAreRefusedWithLimitExceeded) {
  Parties parties;
  auto initiator = make(parties.initiator(kIKpsk2));
  auto responder = make(parties.responder(kIKpsk2));
  // IK message 1 carries 32 (e) + 48 (s) + 16 (tag) bytes around the payload.
  EXPECT_EQ(initiator.write_message(Bytes(65535 - 96 + 1)).error().code, Errc::limit_exceeded);
  auto largest = initiator.write_message(Bytes(65535 - 96));
  ASSERT_TRUE(largest.ok()) << "a refused write leaves the handshake usable";
  EXPECT_EQ(largest->size(), 65535u);
  EXPECT_TRUE(responder.read_message(*largest).ok());

  auto fresh = make(parties.responder(kIKpsk2));
  EXPECT_EQ(fresh.read_message(Bytes(65536)).error().code, Errc::limit_exceeded);
  EXPECT_EQ(fresh.read_message(*largest).error().code, Errc::protocol) << "dead after bad input";
}

TEST(NoiseHandshake, CreateExplainsUnsupportedNamesAndMissingKeys) {
  Parties parties;
  auto expect_invalid = [](HandshakeOptions options, std::string_view mention) {
    auto state = HandshakeState::create(std::move(options));
    ASSERT_FALSE(state.ok());
    EXPECT_EQ(state.error().code, Errc::invalid_argument);
    EXPECT_NE(state.error().message.find(mention), std::string::npos) << state.error().message;
  };
  auto options = parties.initiator(kIK);
  options.protocol_name = "Noise_IK_448_ChaChaPoly_BLAKE2b";
  expect_invalid(std::move(options), "25519");
  options = parties.initiator(kIK);
  options.protocol_name = "Noise_QQ_25519_ChaChaPoly_BLAKE2b";
  expect_invalid(std::move(options), "QQ");
  options = parties.initiator(kIK);
  options.protocol_name = "Noise_IKpsk3_25519_ChaChaPoly_BLAKE2b";
  expect_invalid(std::move(options), "psk3");
  options = parties.initiator(kIK);
  options.protocol_name = "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b";
  expect_invalid(std::move(options), "fallback");
  options = parties.initiator(kIK);
  options.remote_static.reset();
  expect_invalid(std::move(options), "remote_static");
  options = parties.initiator(kIK);
  options.local_static.reset();
  expect_invalid(std::move(options), "local_static");
  options = parties.initiator(kIKpsk2);
  options.psks.clear();
  expect_invalid(std::move(options), "PSK");
}

TEST(NoiseHandshake, CombinedPskModifiersUseEveryPskInOrder) {
  Parties parties;
  const std::string protocol = "Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b";
  auto first = Secret<32>::random();
  auto second = Secret<32>::random();
  auto with_psks = [&](HandshakeOptions options, bool swapped) {
    options.psks.clear();
    options.psks.push_back(swapped ? second.clone() : first.clone());
    options.psks.push_back(swapped ? first.clone() : second.clone());
    return options;
  };
  {
    auto initiator = make(with_psks(parties.initiator(protocol), false));
    auto responder = make(with_psks(parties.responder(protocol), false));
    EXPECT_FALSE(run(initiator, responder).has_value());
  }
  auto initiator = make(with_psks(parties.initiator(protocol), false));
  auto responder = make(with_psks(parties.responder(protocol), true));
  auto error = run(initiator, responder);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error.code, Errc::auth_failed);
}

}  // namespace
}  // namespace samizdat::crypto::noise
