// Key pairs: X25519 for Diffie-Hellman (Noise, X3DH, ratchet) and Ed25519 for
// signatures (account identity, prekey signatures, network maps).
#pragma once

#include <array>
#include <cstdint>

#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto {

using X25519Public = std::array<std::uint8_t, 32>;
using Ed25519Public = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

struct X25519KeyPair {
  Secret<32> secret_key;
  X25519Public public_key{};

  static X25519KeyPair generate();
  static X25519KeyPair from_secret(ByteView secret_key);
  [[nodiscard]] X25519KeyPair clone() const { return from_secret(secret_key.view()); }
};

// X25519(secret, public). Fails if the result is all zeros (a low-order public key),
// which would make the shared secret predictable.
Result<Secret<32>> x25519(const Secret<32>& secret_key, const X25519Public& public_key);

struct Ed25519KeyPair {
  Secret<64> secret_key;  // libsodium layout: seed || public key
  Ed25519Public public_key{};

  static Ed25519KeyPair generate();
  static Ed25519KeyPair from_seed(ByteView seed32);
  [[nodiscard]] Ed25519KeyPair clone() const;

  [[nodiscard]] Ed25519Signature sign(ByteView message) const;
  // The X25519 form of this identity (birational map), for X3DH's DH(IK, ...).
  [[nodiscard]] X25519KeyPair to_x25519() const;
};

Status ed25519_verify(const Ed25519Public& public_key, ByteView message, const Ed25519Signature& signature);
Result<X25519Public> ed25519_public_to_x25519(const Ed25519Public& public_key);

template <std::size_t N>
Result<std::array<std::uint8_t, N>> to_array(ByteView bytes) {
  if (bytes.size() != N) {
    return make_error(Errc::malformed,
                      "expected " + std::to_string(N) + " bytes, got " + std::to_string(bytes.size()));
  }
  std::array<std::uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

}  // namespace samizdat::crypto
