// Transport CipherStates after split(): ordering, nonce exhaustion, rekeying.
#include <gtest/gtest.h>

#include <limits>

#include "crypto/noise/handshake.hpp"

namespace samizdat::crypto::noise {
namespace {

struct Session {
  TransportKeys client;
  TransportKeys server;
};

Session connect() {
  auto server_static = X25519KeyPair::generate();
  auto psk = Secret<32>::random();
  HandshakeOptions client_options;
  client_options.protocol_name = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b";
  client_options.remote_static = server_static.public_key;
  client_options.psks.push_back(psk.clone());
  HandshakeOptions server_options;
  server_options.protocol_name = client_options.protocol_name;
  server_options.role = Role::responder;
  server_options.local_static = std::move(server_static);
  server_options.psks.push_back(std::move(psk));
  auto client = HandshakeState::create(std::move(client_options));
  auto server = HandshakeState::create(std::move(server_options));
  EXPECT_TRUE(client.ok() && server.ok());
  auto first = client->write_message({});
  EXPECT_TRUE(server->read_message(*first).ok());
  auto second = server->write_message({});
  EXPECT_TRUE(client->read_message(*second).ok());
  return {std::move(*client->split()), std::move(*server->split())};
}

TEST(NoiseTransport, OutOfOrderMessageFailsWithoutDisturbingTheStream) {
  auto session = connect();
  auto first = session.client.send.encrypt_with_ad({}, to_bytes("one"));
  auto second = session.client.send.encrypt_with_ad({}, to_bytes("two"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(session.server.receive.decrypt_with_ad({}, *second).error().code, Errc::auth_failed);
  EXPECT_EQ(session.server.receive.nonce(), 0u) << "a failed decryption does not advance the nonce";
  EXPECT_EQ(*session.server.receive.decrypt_with_ad({}, *first), to_bytes("one"));
  EXPECT_EQ(*session.server.receive.decrypt_with_ad({}, *second), to_bytes("two"));
  EXPECT_EQ(session.server.receive.decrypt_with_ad({}, *first).error().code, Errc::auth_failed)
      << "a replayed transport message is rejected";
}

TEST(NoiseTransport, AssociatedDataMustMatch) {
  auto session = connect();
  auto sealed = session.server.send.encrypt_with_ad(to_bytes("header"), to_bytes("body"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(session.client.receive.decrypt_with_ad(to_bytes("HEADER"), *sealed).error().code,
            Errc::auth_failed);
  EXPECT_EQ(*session.client.receive.decrypt_with_ad(to_bytes("header"), *sealed), to_bytes("body"));
}

TEST(NoiseTransport, TruncatedTransportMessagesAreMalformedOrUnauthenticated) {
  auto session = connect();
  auto sealed = session.client.send.encrypt_with_ad({}, to_bytes("payload"));
  ASSERT_TRUE(sealed.ok());
  for (std::size_t keep = 0; keep < sealed->size(); ++keep) {
    auto code = session.server.receive.decrypt_with_ad({}, ByteView(*sealed).first(keep)).error().code;
    EXPECT_EQ(code, keep < kTagSize ? Errc::malformed : Errc::auth_failed) << keep;
  }
  EXPECT_TRUE(session.server.receive.decrypt_with_ad({}, *sealed).ok());
}

TEST(NoiseTransport, ExhaustedNonceRefusesToEncryptOrDecrypt) {
  auto session = connect();
  session.client.send.set_nonce(std::numeric_limits<std::uint64_t>::max() - 1);
  session.server.receive.set_nonce(std::numeric_limits<std::uint64_t>::max() - 1);
  auto last = session.client.send.encrypt_with_ad({}, to_bytes("last"));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*session.server.receive.decrypt_with_ad({}, *last), to_bytes("last"));
  EXPECT_EQ(session.client.send.encrypt_with_ad({}, to_bytes("one too many")).error().code,
            Errc::limit_exceeded);
  EXPECT_EQ(session.server.receive.decrypt_with_ad({}, *last).error().code, Errc::limit_exceeded);
}

TEST(NoiseTransport, RekeyingBothEndsKeepsTheConversationGoingAndOneEndAloneBreaksIt) {
  auto session = connect();
  session.client.send.rekey();
  session.server.receive.rekey();
  auto after = session.client.send.encrypt_with_ad({}, to_bytes("after rekey"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*session.server.receive.decrypt_with_ad({}, *after), to_bytes("after rekey"));

  session.server.send.rekey();
  auto lopsided = session.server.send.encrypt_with_ad({}, to_bytes("lopsided"));
  ASSERT_TRUE(lopsided.ok());
  EXPECT_EQ(session.client.receive.decrypt_with_ad({}, *lopsided).error().code, Errc::auth_failed);
}

TEST(NoiseTransport, OversizedTransportMessagesAreRefused) {
  auto session = connect();
  EXPECT_EQ(session.client.send.encrypt_with_ad({}, Bytes(65535 - 16 + 1)).error().code,
            Errc::limit_exceeded);
  auto largest = session.client.send.encrypt_with_ad({}, Bytes(65535 - 16));
  ASSERT_TRUE(largest.ok());
  EXPECT_TRUE(session.server.receive.decrypt_with_ad({}, *largest).ok());
  EXPECT_EQ(session.server.receive.decrypt_with_ad({}, Bytes(65536)).error().code, Errc::limit_exceeded);
}

}  // namespace
}  // namespace samizdat::crypto::noise
