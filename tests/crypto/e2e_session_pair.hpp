// Test support for the e2e ratchet tests: two identities with an established session.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "crypto/e2e/ratchet_session.hpp"

namespace samizdat::crypto::e2e {

struct SessionPair {
  Ed25519KeyPair alice_identity = Ed25519KeyPair::generate();
  Ed25519KeyPair bob_identity = Ed25519KeyPair::generate();
  SignedPreKey bob_signed_prekey = SignedPreKey::generate(bob_identity, 1);
  OneTimePreKey bob_one_time_prekey = OneTimePreKey::generate(100);
  std::optional<RatchetSession> alice;
  std::optional<RatchetSession> bob;

  PreKeyBundle bob_bundle() const {
    return {bob_identity.public_key, 1, bob_signed_prekey.public_part(), bob_one_time_prekey.public_part()};
  }

  // Alice initiates; Bob accepts her first message (whose plaintext is returned).
  Bytes establish(std::string_view first = "hello bob") {
    alice.emplace(RatchetSession::initiate(alice_identity, bob_bundle()).value());
    Bytes wire = alice->encrypt(as_bytes(first)).value();
    auto prekey = PreKeyMessage::parse(wire).value();
    auto accepted = RatchetSession::accept(bob_identity, bob_signed_prekey, &bob_one_time_prekey, prekey);
    EXPECT_TRUE(accepted.ok()) << accepted.error().describe();
    bob.emplace(std::move(accepted->session));
    return accepted->plaintext;
  }
};

inline std::string text_of(const Result<Bytes>& plaintext) {
  if (!plaintext.ok()) return "<error: " + plaintext.error().describe() + ">";
  return std::string(as_chars(*plaintext));
}

inline Bytes state_of(const RatchetSession& session) { return to_bytes(session.serialize().view()); }

}  // namespace samizdat::crypto::e2e
