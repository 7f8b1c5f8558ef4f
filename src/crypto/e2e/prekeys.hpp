// X3DH prekeys: a signed prekey (SPK, signed by the identity key over an encoding of its id and
// public key), one-time prekeys (OPK), and the bundle a server hands to an initiator.
// Secret halves stay on the device; *Public parts are what gets uploaded.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/keys.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

using PreKeyId = std::uint32_t;

struct SignedPreKeyPublic {
  PreKeyId id = 0;
  X25519Public public_key{};
  Ed25519Signature signature{};
};

struct SignedPreKey {
  PreKeyId id = 0;
  X25519KeyPair key_pair;
  Ed25519Signature signature{};

  static SignedPreKey generate(const Ed25519KeyPair& identity, PreKeyId id);
  // Rebuild from storage (the client keeps id, secret key and signature).
  static SignedPreKey from_parts(PreKeyId id, ByteView secret_key, const Ed25519Signature& signature);
  SignedPreKeyPublic public_part() const { return {id, key_pair.public_key, signature}; }
  [[nodiscard]] SignedPreKey clone() const { return {id, key_pair.clone(), signature}; }
};

struct OneTimePreKeyPublic {
  PreKeyId id = 0;
  X25519Public public_key{};
};

struct OneTimePreKey {
  PreKeyId id = 0;
  X25519KeyPair key_pair;

  static OneTimePreKey generate(PreKeyId id);
  static OneTimePreKey from_parts(PreKeyId id, ByteView secret_key) {
    return {id, X25519KeyPair::from_secret(secret_key)};
  }
  OneTimePreKeyPublic public_part() const { return {id, key_pair.public_key}; }
  [[nodiscard]] OneTimePreKey clone() const { return {id, key_pair.clone()}; }
};

// ids first_id, first_id+1, ... (wrapping is the caller's business).
std::vector<OneTimePreKey> generate_one_time_prekeys(PreKeyId first_id, std::size_t count);

// What the identity key signs: "Samizdat_SignedPreKey_v1" || id (u32 BE) || public key.
Bytes signed_prekey_signing_message(PreKeyId id, const X25519Public& public_key);
// Errc::auth_failed if the signature does not verify under identity_key.
Status verify_signed_prekey(const Ed25519Public& identity_key, const SignedPreKeyPublic& signed_prekey);

// One device's published keys, as fetched from the server (which is not trusted: the SPK
// signature is checked against identity_key, and identity_key must match the pinned address).
struct PreKeyBundle {
  Ed25519Public identity_key{};
  DeviceId device_id = 0;
  SignedPreKeyPublic signed_prekey;
  std::optional<OneTimePreKeyPublic> one_time_prekey;  // absent when the server ran out
};

}  // namespace samizdat::crypto::e2e
