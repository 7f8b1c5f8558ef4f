#include <gtest/gtest.h>

#include "crypto/e2e/x3dh.hpp"

namespace samizdat::crypto::e2e {
namespace {

struct Responder {
  Ed25519KeyPair identity = Ed25519KeyPair::generate();
  SignedPreKey signed_prekey = SignedPreKey::generate(identity, 7);
  OneTimePreKey one_time_prekey = OneTimePreKey::generate(42);

  PreKeyBundle bundle(bool with_one_time_prekey) const {
    PreKeyBundle b{identity.public_key, 1, signed_prekey.public_part(), std::nullopt};
    if (with_one_time_prekey) b.one_time_prekey = one_time_prekey.public_part();
    return b;
  }
};

TEST(X3dh, BothSidesDeriveTheSameKeyWithAOneTimePrekey) {
  Responder bob;
  auto alice = Ed25519KeyPair::generate();
  auto initiated = x3dh_initiate(alice, bob.bundle(true));
  ASSERT_TRUE(initiated.ok()) << initiated.error().describe();
  EXPECT_EQ(initiated->header.one_time_prekey_id, std::optional<PreKeyId>(42));
  auto responded = x3dh_respond(bob.identity, bob.signed_prekey, &bob.one_time_prekey, initiated->header);
  ASSERT_TRUE(responded.ok()) << responded.error().describe();
  EXPECT_TRUE(equal_constant_time(initiated->shared_key.view(), responded->shared_key.view()));
  EXPECT_EQ(initiated->associated_data, responded->associated_data);
  EXPECT_EQ(responded->consumed_one_time_prekey_id, std::optional<PreKeyId>(42));
}

TEST(X3dh, BothSidesDeriveTheSameKeyWithoutAOneTimePrekey) {
  Responder bob;
  auto alice = Ed25519KeyPair::generate();
  auto initiated = x3dh_initiate(alice, bob.bundle(false));
  ASSERT_TRUE(initiated.ok());
  EXPECT_FALSE(initiated->header.one_time_prekey_id.has_value());
  auto responded = x3dh_respond(bob.identity, bob.signed_prekey, nullptr, initiated->header);
  ASSERT_TRUE(responded.ok());
  EXPECT_TRUE(equal_constant_time(initiated->shared_key.view(), responded->shared_key.view()));
  EXPECT_FALSE(responded->consumed_one_time_prekey_id.has_value());
}

TEST(X3dh, EachSessionGetsAFreshKey) {
  Responder bob;
  auto alice = Ed25519KeyPair::generate();
  auto first = x3dh_initiate(alice, bob.bundle(false));
  auto second = x3dh_initiate(alice, bob.bundle(false));
  EXPECT_FALSE(equal_constant_time(first->shared_key.view(), second->shared_key.view()));
}

TEST(X3dh, RejectsABundleWhoseSignedPrekeySignatureIsForged) {
  Responder bob;
  auto alice = Ed25519KeyPair::generate();
  auto mallory = Ed25519KeyPair::generate();
  PreKeyBundle forged = bob.bundle(true);
  SignedPreKey substitute = SignedPreKey::generate(mallory, 7);  // signed by the wrong identity
  forged.signed_prekey = substitute.public_part();
  auto result = x3dh_initiate(alice, forged);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::auth_failed);

  PreKeyBundle flipped = bob.bundle(true);
  flipped.signed_prekey.signature[5] ^= 1;
  EXPECT_EQ(x3dh_initiate(alice, flipped).error().code, Errc::auth_failed);
  PreKeyBundle renumbered = bob.bundle(true);
  renumbered.signed_prekey.id = 8;  // the id is signed too
  EXPECT_EQ(x3dh_initiate(alice, renumbered).error().code, Errc::auth_failed);
}

TEST(X3dh, ResponderRefusesWhenTheNamedOneTimePrekeyIsGone) {
  Responder bob;
  auto alice = Ed25519KeyPair::generate();
  auto initiated = x3dh_initiate(alice, bob.bundle(true));
  auto responded = x3dh_respond(bob.identity, bob.signed_prekey, nullptr, initiated->header);
  ASSERT_FALSE(responded.ok());
  EXPECT_EQ(responded.error().code, Errc::not_found);
}

TEST(X3dh, AWrongResponderIdentityDerivesADifferentKey) {
  Responder bob;
  auto alice = Ed25519KeyPair::generate();
  auto initiated = x3dh_initiate(alice, bob.bundle(false));
  auto eve = Ed25519KeyPair::generate();
  auto responded = x3dh_respond(eve, bob.signed_prekey, nullptr, initiated->header);
  ASSERT_TRUE(responded.ok());
  EXPECT_FALSE(equal_constant_time(initiated->shared_key.view(), responded->shared_key.view()));
}

}  // namespace
}  // namespace samizdat::crypto::e2e
