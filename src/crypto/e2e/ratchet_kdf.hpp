// Internal: the Double Ratchet's KDF chains and per-message AEAD (see ratchet_session.hpp).
#pragma once

#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

struct RootStep {
  Secret<32> root_key;
  Secret<32> chain_key;
};
// KDF_RK: HKDF-SHA256(salt = rk, ikm = dh_out, info = "Samizdat_Ratchet_v1") -> 64 bytes.
RootStep kdf_root(const Secret<32>& root_key, const Secret<32>& dh_out);

struct ChainStep {
  Secret<32> chain_key;
  Secret<32> message_key;
};
// KDF_CK: message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02).
ChainStep kdf_chain(const Secret<32>& chain_key);

// ChaCha20-Poly1305-IETF with key || nonce = HKDF-SHA256(mk, info "Samizdat_MessageKeys_v1").
void seal_with_message_key(const Secret<32>& message_key, ByteView associated_data, ByteView plaintext,
                           Bytes& out);
// Errc::auth_failed if the tag does not verify.
Result<Bytes> open_with_message_key(const Secret<32>& message_key, ByteView associated_data,
                                    ByteView ciphertext);

}  // namespace samizdat::crypto::e2e
