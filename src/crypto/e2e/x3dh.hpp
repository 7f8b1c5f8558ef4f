// X3DH key agreement (signal.org/docs/specifications/x3dh), on libsodium.
//
// Identity: the account key is Ed25519; its DH form is the birational X25519 map
// (Ed25519KeyPair::to_x25519 / ed25519_public_to_x25519) instead of XEdDSA. One key then
// serves both signatures and DH without a custom signature scheme, using only libsodium
// primitives; the cost is that the identity is an Ed25519 key rather than a Montgomery one.
//
// SK = HKDF-SHA256(salt = 32 zero bytes, ikm = F || DH1 || DH2 || DH3 [|| DH4],
//                  info = "Samizdat_X3DH_v1"), F = 32 0xFF bytes.
// AD = initiator identity (Ed25519, 32) || responder identity (Ed25519, 32).
#pragma once

#include <optional>

#include "crypto/e2e/prekeys.hpp"
#include "crypto/keys.hpp"
#include "crypto/secret.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr std::size_t kX3dhAssociatedDataSize = 64;

// Sent in the clear (inside the ratchet PreKeyMessage) so the responder can redo the agreement.
struct X3dhHeader {
  Ed25519Public initiator_identity{};
  X25519Public ephemeral_key{};  // also identifies the session ("base key")
  PreKeyId signed_prekey_id = 0;
  std::optional<PreKeyId> one_time_prekey_id;

  bool operator==(const X3dhHeader&) const = default;
};

struct X3dhInitiated {
  Secret<32> shared_key;
  Bytes associated_data;
  X3dhHeader header;
  X25519Public responder_signed_prekey{};  // the initiator's first ratchet public key (DHr)
};

// Verifies the bundle's SPK signature (Errc::auth_failed if forged), then derives SK.
// The ephemeral secret is wiped before returning.
Result<X3dhInitiated> x3dh_initiate(const Ed25519KeyPair& identity, const PreKeyBundle& bundle);
// The same with the ephemeral key pair given instead of drawn: for fixed-input test vectors.
// An ephemeral must never be used twice.
Result<X3dhInitiated> x3dh_initiate(const Ed25519KeyPair& identity, const PreKeyBundle& bundle,
                                    const X25519KeyPair& ephemeral);

struct X3dhResponded {
  Secret<32> shared_key;
  Bytes associated_data;
  // The OPK this agreement used. The caller MUST delete that one-time prekey once the
  // resulting session is stored, so a replayed first message cannot reuse it.
  std::optional<PreKeyId> consumed_one_time_prekey_id;
};

// The caller looks up the keys named by header.signed_prekey_id / one_time_prekey_id and passes
// them in (one_time_prekey = nullptr when the header names none). Mismatched ids or a missing OPK
// give Errc::not_found.
Result<X3dhResponded> x3dh_respond(const Ed25519KeyPair& identity, const SignedPreKey& signed_prekey,
                                   const OneTimePreKey* one_time_prekey, const X3dhHeader& header);

}  // namespace samizdat::crypto::e2e
