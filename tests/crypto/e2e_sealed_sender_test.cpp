#include <gtest/gtest.h>

#include "crypto/e2e/padding.hpp"
#include "crypto/e2e/sealed_sender.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kDay = 86'400'000;

struct Parties {
  Ed25519KeyPair server = Ed25519KeyPair::generate();
  Ed25519KeyPair alice = Ed25519KeyPair::generate();
  Ed25519KeyPair bob = Ed25519KeyPair::generate();
  SenderCertificate alice_certificate = SenderCertificate::issue(server, alice.public_key, 3, kNow + kDay);

  Bytes seal(std::string_view content) {
    return seal_envelope(alice, alice_certificate, bob.public_key, as_bytes(content)).value();
  }
  Result<OpenedEnvelope> open(ByteView envelope, std::int64_t now = kNow) {
    return open_envelope(bob, server.public_key, now, envelope);
  }
};

TEST(SealedSender, RecipientLearnsAndAuthenticatesTheSender) {
  Parties p;
  auto opened = p.open(p.seal("ratchet message bytes"));
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  EXPECT_EQ(opened->certificate.sender_identity, p.alice.public_key);
  EXPECT_EQ(opened->certificate.sender_device_id, 3u);
  EXPECT_EQ(std::string(as_chars(opened->content)), "ratchet message bytes");
}

TEST(SealedSender, EnvelopeDoesNotContainTheSenderIdentityAndSizesFallIntoBuckets) {
  Parties p;
  Bytes envelope = p.seal("hi");
  auto key = p.alice.public_key;
  EXPECT_EQ(std::search(envelope.begin(), envelope.end(), key.begin(), key.end()), envelope.end());
  // Contents of different lengths in one bucket give identical envelope sizes.
  EXPECT_EQ(p.seal("a").size(), p.seal(std::string(100, 'a')).size());
  EXPECT_EQ(p.seal(std::string(1000, 'a')).size(), p.seal(std::string(1010, 'a')).size());
  for (std::size_t n : {1u, 300u, 5000u, 70000u, 300000u}) {
    std::size_t bucket = padded_size(n);
    EXPECT_GE(bucket, n);
    EXPECT_LE(bucket, std::max<std::size_t>(kMinPaddedSize, n + n / 8));
  }
}

TEST(SealedSender, TamperingAnywhereIsRejected) {
  Parties p;
  Bytes envelope = p.seal("hello");
  for (std::size_t i = 0; i < envelope.size(); ++i) {
    Bytes tampered = envelope;
    tampered[i] ^= 0x01;
    auto opened = p.open(tampered);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    if (i > 0) {
      EXPECT_EQ(opened.error().code, Errc::auth_failed) << "byte " << i;
    }
  }
  EXPECT_FALSE(p.open(Bytes(envelope.begin(), envelope.end() - 1)).ok());
  EXPECT_EQ(p.open(Bytes(10, 0)).error().code, Errc::malformed);
}

TEST(SealedSender, OnlyTheRecipientCanOpenIt) {
  Parties p;
  Bytes envelope = p.seal("for bob");
  auto eve = Ed25519KeyPair::generate();
  EXPECT_EQ(open_envelope(eve, p.server.public_key, kNow, envelope).error().code, Errc::auth_failed);
}

TEST(SealedSender, ACertificateNotSignedByTheTrustedServerKeyIsRejected) {
  Parties p;
  auto rogue = Ed25519KeyPair::generate();
  auto forged = SenderCertificate::issue(rogue, p.alice.public_key, 3, kNow + kDay);
  Bytes envelope = seal_envelope(p.alice, forged, p.bob.public_key, as_bytes("x")).value();
  auto opened = p.open(envelope);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::auth_failed);
  EXPECT_NE(opened.error().message.find("server key"), std::string::npos);

  SenderCertificate altered = p.alice_certificate;
  altered.expires_unix_ms += kDay;  // extending one's own certificate breaks the signature
  Bytes envelope2 = seal_envelope(p.alice, altered, p.bob.public_key, as_bytes("x")).value();
  EXPECT_EQ(p.open(envelope2).error().code, Errc::auth_failed);
}

TEST(SealedSender, AnExpiredCertificateGetsAClearError) {
  Parties p;
  Bytes envelope = p.seal("late");
  auto opened = p.open(envelope, kNow + 2 * kDay);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::auth_failed);
  EXPECT_NE(opened.error().message.find("expired"), std::string::npos);
}

TEST(SealedSender, ACertificateForSomeoneElseCannotBeUsed) {
  Parties p;
  // Mallory holds a valid certificate of her own and tries to pass as Alice by pairing Alice's
  // certificate with her own identity: the sealing side refuses, and a hand-built envelope fails.
  auto mallory = Ed25519KeyPair::generate();
  EXPECT_EQ(seal_envelope(mallory, p.alice_certificate, p.bob.public_key, as_bytes("x")).error().code,
            Errc::invalid_argument);
}

TEST(SenderCertificate, RoundTripsAndParsingIsStrict) {
  Parties p;
  Bytes encoded = p.alice_certificate.encode();
  ASSERT_EQ(encoded.size(), kSenderCertificateSize);
  EXPECT_EQ(SenderCertificate::parse(encoded).value(), p.alice_certificate);
  EXPECT_TRUE(p.alice_certificate.verify(p.server.public_key, kNow).ok());
  EXPECT_EQ(SenderCertificate::parse(ByteView(encoded).first(50)).error().code, Errc::malformed);
  Bytes version = encoded;
  version[0] = 2;
  EXPECT_EQ(SenderCertificate::parse(version).error().code, Errc::malformed);
  for (std::size_t i = 1; i < encoded.size(); ++i) {
    Bytes tampered = encoded;
    tampered[i] ^= 0x40;
    auto parsed = SenderCertificate::parse(tampered);
    if (parsed.ok()) {
      EXPECT_FALSE(parsed->verify(p.server.public_key, kNow).ok()) << "byte " << i;
    }
  }
}

}  // namespace
}  // namespace samizdat::crypto::e2e
