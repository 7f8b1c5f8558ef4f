// The e2e constructions against frozen outputs for fixed inputs (tests/vectors/e2e-*.json):
// a changed label, KDF, iteration count or encoding fails here even when both sides of a
// round trip would still agree with each other.
#include <gtest/gtest.h>

#include "crypto/e2e/device_registration.hpp"
#include "crypto/e2e/ratchet_message.hpp"
#include "crypto/e2e/ratchet_session.hpp"
#include "crypto/e2e/safety_number.hpp"
#include "crypto/e2e/sealed_sender.hpp"
#include "crypto/e2e/x3dh.hpp"
#include "vectors/golden_vectors.hpp"

namespace samizdat::crypto::e2e {
namespace {

using golden::hex_array;
using golden::hex_field;
using golden::Json;
using golden::load_vectors;

Ed25519KeyPair identity(const Json& vector, const char* field) {
  return Ed25519KeyPair::from_seed(hex_field(vector, field));
}
X25519KeyPair x25519_pair(const Json& vector, const char* field) {
  return X25519KeyPair::from_secret(hex_field(vector, field));
}

// The responder's keys and the bundle an initiator fetches for them.
struct Responder {
  Ed25519KeyPair identity;
  SignedPreKey signed_prekey;
  std::optional<OneTimePreKey> one_time_prekey;
  PreKeyBundle bundle;
};

Responder responder(const Json& vector) {
  Responder out{identity(vector, "responder_identity_seed"), {}, std::nullopt, {}};
  auto spk_pair = x25519_pair(vector, "signed_prekey_secret");
  auto id = vector.at("signed_prekey_id").get<PreKeyId>();
  auto signature = out.identity.sign(signed_prekey_signing_message(id, spk_pair.public_key));
  out.signed_prekey = SignedPreKey::from_parts(id, spk_pair.secret_key.view(), signature);
  out.bundle.identity_key = out.identity.public_key;
  out.bundle.device_id = 1;
  out.bundle.signed_prekey = out.signed_prekey.public_part();
  if (vector.contains("one_time_prekey_id")) {
    out.one_time_prekey = OneTimePreKey::from_parts(vector.at("one_time_prekey_id").get<PreKeyId>(),
                                                    hex_field(vector, "one_time_prekey_secret"));
    out.bundle.one_time_prekey = out.one_time_prekey->public_part();
  }
  return out;
}

TEST(GoldenVectors, SafetyNumbersMatchTheFrozenDigitsAndScannableCodes) {
  for (const auto& vector : load_vectors("e2e-safety-number.json")) {
    auto local = identity(vector, "local_identity_seed");
    auto remote = identity(vector, "remote_identity_seed");
    SafetyNumber ours = safety_number(local.public_key, remote.public_key);
    SafetyNumber theirs = safety_number(remote.public_key, local.public_key);
    const Json& expected = vector.at("expected");
    EXPECT_EQ(ours.digits, expected.at("digits").get<std::string>());
    EXPECT_EQ(ours.grouped(), expected.at("grouped").get<std::string>());
    EXPECT_EQ(hex_encode(ours.scannable), expected.at("local_scannable").get<std::string>());
    EXPECT_EQ(hex_encode(theirs.scannable), expected.at("remote_scannable").get<std::string>());
    EXPECT_TRUE(compare_scanned_safety_number(ours, theirs.scannable).ok());
  }
}

TEST(GoldenVectors, X3dhDerivesTheFrozenSharedKeyOnBothSides) {
  for (const auto& vector : load_vectors("e2e-x3dh.json")) {
    auto initiator = identity(vector, "initiator_identity_seed");
    auto bob = responder(vector);
    const Json& expected = vector.at("expected");
    EXPECT_EQ(hex_encode(bob.signed_prekey.signature),
              expected.at("signed_prekey_signature").get<std::string>());

    auto initiated = x3dh_initiate(initiator, bob.bundle, x25519_pair(vector, "ephemeral_secret"));
    ASSERT_TRUE(initiated.ok()) << initiated.error().describe();
    EXPECT_EQ(hex_encode(initiated->shared_key.view()), expected.at("shared_key").get<std::string>());
    EXPECT_EQ(hex_encode(initiated->associated_data), expected.at("associated_data").get<std::string>());

    auto responded = x3dh_respond(bob.identity, bob.signed_prekey,
                                  bob.one_time_prekey ? &*bob.one_time_prekey : nullptr, initiated->header);
    ASSERT_TRUE(responded.ok()) << responded.error().describe();
    EXPECT_EQ(hex_encode(responded->shared_key.view()), expected.at("shared_key").get<std::string>());
  }
}

TEST(GoldenVectors, RatchetFirstMessagesMatchTheFrozenCiphertextsAndTheFrozenReplyDecrypts) {
  for (const auto& vector : load_vectors("e2e-ratchet.json")) {
    auto alice_identity = identity(vector, "initiator_identity_seed");
    auto bob = responder(vector);
    const Json& expected = vector.at("expected");
    auto alice = RatchetSession::initiate(alice_identity, bob.bundle, x25519_pair(vector, "ephemeral_secret"),
                                          x25519_pair(vector, "first_ratchet_secret"));
    ASSERT_TRUE(alice.ok()) << alice.error().describe();

    const Json& plaintexts = vector.at("plaintexts");
    const Json& messages = expected.at("messages");
    ASSERT_EQ(plaintexts.size(), messages.size());
    for (std::size_t i = 0; i < plaintexts.size(); ++i) {
      auto sealed = alice->encrypt(*hex_decode(plaintexts[i].get<std::string>()));
      ASSERT_TRUE(sealed.ok()) << sealed.error().describe();
      EXPECT_EQ(hex_encode(*sealed), messages[i].get<std::string>()) << "message " << i;
    }

    // The responder opens the frozen messages.
    auto first = PreKeyMessage::parse(*hex_decode(messages[0].get<std::string>()));
    ASSERT_TRUE(first.ok()) << first.error().describe();
    auto accepted = RatchetSession::accept(bob.identity, bob.signed_prekey,
                                           bob.one_time_prekey ? &*bob.one_time_prekey : nullptr, *first);
    ASSERT_TRUE(accepted.ok()) << accepted.error().describe();
    EXPECT_EQ(hex_encode(accepted->plaintext), plaintexts[0].get<std::string>());
    for (std::size_t i = 1; i < messages.size(); ++i) {
      auto opened = accepted->session.decrypt(*hex_decode(messages[i].get<std::string>()));
      ASSERT_TRUE(opened.ok()) << "message " << i << ": " << opened.error().describe();
      EXPECT_EQ(hex_encode(*opened), plaintexts[i].get<std::string>());
    }

    // The reply was made once with a fresh ratchet key; the initiator's DH step must open it.
    auto reply = alice->decrypt(hex_field(expected, "reply"));
    ASSERT_TRUE(reply.ok()) << reply.error().describe();
    EXPECT_EQ(hex_encode(*reply), vector.at("reply_plaintext").get<std::string>());
  }
}

TEST(GoldenVectors, SealedSenderEnvelopesMatchTheFrozenBytesAndOpen) {
  for (const auto& vector : load_vectors("e2e-sealed-sender.json")) {
    auto sender = identity(vector, "sender_identity_seed");
    auto recipient = identity(vector, "recipient_identity_seed");
    auto server = identity(vector, "server_certificate_key_seed");
    auto expires = vector.at("expires_unix_ms").get<std::int64_t>();
    auto certificate = SenderCertificate::issue(server, sender.public_key,
                                                vector.at("sender_device_id").get<DeviceId>(), expires);
    const Json& expected = vector.at("expected");
    EXPECT_EQ(hex_encode(certificate.encode()), expected.at("certificate").get<std::string>());

    Bytes content = hex_field(vector, "content");
    auto envelope = seal_envelope(sender, certificate, recipient.public_key, content,
                                  x25519_pair(vector, "ephemeral_secret"));
    ASSERT_TRUE(envelope.ok()) << envelope.error().describe();
    EXPECT_EQ(hex_encode(*envelope), expected.at("envelope").get<std::string>());

    auto opened = open_envelope(recipient, server.public_key, expires - 1, hex_field(expected, "envelope"));
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    EXPECT_EQ(opened->content, content);
    EXPECT_EQ(opened->certificate, certificate);
  }
}

TEST(GoldenVectors, DeviceRegistrationSignaturesMatchTheFrozenBytesAndVerify) {
  for (const auto& vector : load_vectors("e2e-device-registration.json")) {
    auto account = identity(vector, "identity_seed");
    auto device_id = vector.at("device_id").get<std::uint32_t>();
    auto noise = x25519_pair(vector, "noise_static_secret");
    auto signature = sign_device_registration(account, device_id, noise.public_key);
    const Json& expected = vector.at("expected");
    EXPECT_EQ(hex_encode(signature), expected.at("signature").get<std::string>());
    EXPECT_TRUE(verify_device_registration(account.public_key, device_id, noise.public_key,
                                           hex_array<64>(expected, "signature"))
                    .ok());
  }
}

}  // namespace
}  // namespace samizdat::crypto::e2e
