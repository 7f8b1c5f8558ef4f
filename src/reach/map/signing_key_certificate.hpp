// Signing-key certificate: the offline root key vouches that an operator signing key may
// sign network maps during [valid_from, valid_until) (unix seconds). Rotating the signing
// key = certifying a new one; maps signed by the old key are refused once it expires.
//   signed bytes = "samizdat-map-signing-key-v1" || signing_key(32) || u64be(valid_from)
//                  || u64be(valid_until)
#pragma once

#include <cstdint>

#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

struct SigningKeyCertificate {
  crypto::Ed25519Public signing_key{};
  std::uint64_t valid_from = 0;
  std::uint64_t valid_until = 0;
  crypto::Ed25519Signature root_signature{};
};

// Errc::invalid_argument if valid_until <= valid_from.
Result<SigningKeyCertificate> certify_signing_key(const crypto::Ed25519KeyPair& root,
                                                  const crypto::Ed25519Public& signing_key,
                                                  std::uint64_t valid_from, std::uint64_t valid_until);

// Errc::auth_failed "signing key certificate is not signed by the pinned root key", or
// "signing key expired at ..." / "signing key not valid before ..." for `now` outside the window.
Status verify_signing_key_certificate(const SigningKeyCertificate& certificate,
                                      const crypto::Ed25519Public& root, std::uint64_t now);

// Fixed 112-byte form (32 + 8 + 8 + 64) used inside signed maps and stored next to the key.
Bytes encode_signing_key_certificate(const SigningKeyCertificate& certificate);
// Errc::malformed ("truncated", wrong size); the signature is not checked here.
Result<SigningKeyCertificate> decode_signing_key_certificate(ByteView bytes);

}  // namespace samizdat::reach
