// Sealed sender (after Signal's sealed sender v1): the server sees only the recipient's mailbox
// id (carried beside this ciphertext) and an opaque, size-bucketed ciphertext.
//
//   e = fresh X25519 key; R = recipient identity (X25519 form); S = sender identity (X25519 form)
//   chain_key || k1 = HKDF-SHA256(salt = "Samizdat_SealedSender_v1" || R || e.pub, DH(e, R))
//   c1 = AEAD(k1, AD = header, sender identity key (Ed25519, 32))
//   k2 = HKDF-SHA256(salt = chain_key || c1, DH(S, R))
//   c2 = AEAD(k2, AD = header || c1, padded(certificate || content))
//   envelope = version(1)=1 || e.pub(32) || c1(48) || c2
//
// Only the holder of R's secret opens layer 1; layer 2 also needs DH(S, R), so opening it
// authenticates the sender identity; the certificate inside must name that same identity and be
// signed by the trusted server key. Keys are single-use (fresh e), so the AEAD nonce is zero.
#pragma once

#include <cstdint>

#include "crypto/e2e/sender_certificate.hpp"
#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr std::uint8_t kSealedSenderVersion = 1;
inline constexpr std::size_t kMaxSealedContentSize = 512 * 1024;

// content: typically an encoded ratchet Message/PreKeyMessage. The certificate must name the
// sender's identity. Errc::limit_exceeded if content is too large.
Result<Bytes> seal_envelope(const Ed25519KeyPair& sender_identity, const SenderCertificate& certificate,
                            const Ed25519Public& recipient_identity, ByteView content);
// The same with the ephemeral key pair e given instead of drawn: for fixed-input test vectors.
// Sealing twice with one ephemeral would reuse AEAD keys with the zero nonce: never do it.
Result<Bytes> seal_envelope(const Ed25519KeyPair& sender_identity, const SenderCertificate& certificate,
                            const Ed25519Public& recipient_identity, ByteView content,
                            const X25519KeyPair& ephemeral);

struct OpenedEnvelope {
  SenderCertificate certificate;  // verified; certificate.sender_identity is authenticated
  Bytes content;
};

// Errors: malformed (not an envelope), auth_failed (tampered anywhere, not for us, certificate
// not signed by trusted_server_key, certificate identity != the one that sealed it, or
// expired: the message says so).
Result<OpenedEnvelope> open_envelope(const Ed25519KeyPair& recipient_identity,
                                     const Ed25519Public& trusted_server_key, std::int64_t now_unix_ms,
                                     ByteView envelope);

}  // namespace samizdat::crypto::e2e
