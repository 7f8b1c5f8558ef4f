#include "crypto/keys.hpp"

#include <gtest/gtest.h>

namespace samizdat::crypto {
namespace {

TEST(Keys, BothSidesOfX25519AgreeOnTheSharedSecret) {
  auto alice = X25519KeyPair::generate();
  auto bob = X25519KeyPair::generate();
  auto ab = x25519(alice.secret_key, bob.public_key);
  auto ba = x25519(bob.secret_key, alice.public_key);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_TRUE(equal_constant_time(ab->view(), ba->view()));
}

TEST(Keys, X25519RejectsALowOrderPublicKey) {
  auto alice = X25519KeyPair::generate();
  X25519Public zero{};
  EXPECT_EQ(x25519(alice.secret_key, zero).error().code, Errc::auth_failed);
}

TEST(Keys, IdentitySignaturesVerifyAndForgeriesFail) {
  auto identity = Ed25519KeyPair::generate();
  auto message = to_bytes("signed prekey");
  auto signature = identity.sign(message);
  EXPECT_TRUE(ed25519_verify(identity.public_key, message, signature).ok());
  message[0] ^= 1;
  EXPECT_EQ(ed25519_verify(identity.public_key, message, signature).error().code, Errc::auth_failed);
}

TEST(Keys, IdentityKeyConvertsToTheSameX25519KeyFromBothHalves) {
  auto identity = Ed25519KeyPair::generate();
  auto converted_public = ed25519_public_to_x25519(identity.public_key);
  ASSERT_TRUE(converted_public.ok());
  EXPECT_EQ(*converted_public, identity.to_x25519().public_key);
}

}  // namespace
}  // namespace samizdat::crypto
