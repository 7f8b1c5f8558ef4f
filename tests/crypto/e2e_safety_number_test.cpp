#include <gtest/gtest.h>

#include "crypto/e2e/safety_number.hpp"

namespace samizdat::crypto::e2e {
namespace {

TEST(SafetyNumber, BothSidesSeeTheSameSixtyDigits) {
  auto alice = Ed25519KeyPair::generate();
  auto bob = Ed25519KeyPair::generate();
  SafetyNumber on_alice = safety_number(alice.public_key, bob.public_key);
  SafetyNumber on_bob = safety_number(bob.public_key, alice.public_key);
  EXPECT_EQ(on_alice.digits, on_bob.digits);
  EXPECT_EQ(on_alice.digits.size(), 60u);
  EXPECT_EQ(on_alice.digits.find_first_not_of("0123456789"), std::string::npos);
  std::string grouped = on_alice.grouped();
  EXPECT_EQ(grouped.size(), 60u + 11u);
  EXPECT_EQ(std::count(grouped.begin(), grouped.end(), ' '), 11);
}

TEST(SafetyNumber, ChangesWhenAKeyChanges) {
  auto alice = Ed25519KeyPair::generate();
  auto bob = Ed25519KeyPair::generate();
  auto mallory = Ed25519KeyPair::generate();
  EXPECT_NE(safety_number(alice.public_key, bob.public_key).digits,
            safety_number(alice.public_key, mallory.public_key).digits);
}

TEST(SafetyNumber, ScannedCodesMatchOnlyForTheSameKeys) {
  auto alice = Ed25519KeyPair::generate();
  auto bob = Ed25519KeyPair::generate();
  auto mallory = Ed25519KeyPair::generate();
  SafetyNumber on_alice = safety_number(alice.public_key, bob.public_key);
  SafetyNumber on_bob = safety_number(bob.public_key, alice.public_key);
  EXPECT_TRUE(compare_scanned_safety_number(on_alice, on_bob.scannable).ok());
  EXPECT_TRUE(compare_scanned_safety_number(on_bob, on_alice.scannable).ok());
  SafetyNumber on_mallory = safety_number(mallory.public_key, alice.public_key);
  EXPECT_EQ(compare_scanned_safety_number(on_alice, on_mallory.scannable).error().code, Errc::auth_failed);
  // Scanning one's own screen is not a match either.
  EXPECT_EQ(compare_scanned_safety_number(on_alice, on_alice.scannable).error().code, Errc::auth_failed);
  EXPECT_EQ(compare_scanned_safety_number(on_alice, Bytes(10, 1)).error().code, Errc::malformed);
}

}  // namespace
}  // namespace samizdat::crypto::e2e
