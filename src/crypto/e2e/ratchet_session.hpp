// A Double Ratchet session (signal.org/docs/specifications/doubleratchet) started by X3DH.
//
//   KDF_RK: HKDF-SHA256(salt = rk, ikm = dh_out, info = "Samizdat_Ratchet_v1") -> rk', ck
//   KDF_CK: mk = HMAC-SHA256(ck, 0x01), ck' = HMAC-SHA256(ck, 0x02)
//   ENCRYPT: key||nonce = HKDF-SHA256(mk, info "Samizdat_MessageKeys_v1"), ChaCha20-Poly1305-IETF,
//            AD = X3DH AD || 40 header bytes
//
// Guarantees: decrypt() either succeeds and commits the new state, or fails and leaves the
// state exactly as it was. Message keys (used or skipped) are wiped on use. Skipped keys are
// bounded per chain (kMaxSkipPerChain) and in total (kMaxSkippedKeys, oldest evicted).
//
// Duplicates: a message whose key was already used fails with Errc::replay and never decrypts
// twice. Replay is decided from the (unauthenticated) header alone: the key for that position
// is gone, so the message can never decrypt again whatever its contents; saying "replay" rather
// than auth_failed lets the client drop it quietly instead of warning about tampering. This
// also covers messages from the last kMaxPreviousRemoteKeys receiving chains whose keys were used
// or evicted; a duplicate from an even older chain fails as auth_failed (the state no longer
// knows that chain, so it is indistinguishable from a forgery) and still never decrypts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/e2e/prekeys.hpp"
#include "crypto/e2e/ratchet_message.hpp"
#include "crypto/e2e/x3dh.hpp"
#include "crypto/keys.hpp"
#include "crypto/secret.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr std::uint32_t kMaxSkipPerChain = 1000;
inline constexpr std::size_t kMaxSkippedKeys = 2000;
// Remote ratchet keys of finished receiving chains remembered to recognise replays (<= 8 KiB).
inline constexpr std::size_t kMaxPreviousRemoteKeys = 256;

class RatchetSession {
 public:
  struct Accepted;

  // Initiator: verifies the bundle (Errc::auth_failed on a forged SPK signature), runs X3DH and
  // starts the ratchet. Until the first reply decrypts, encrypt() produces PreKeyMessages.
  // The caller must have checked bundle.identity_key against the contact's pinned address.
  static Result<RatchetSession> initiate(const Ed25519KeyPair& local_identity, const PreKeyBundle& bundle);
  // The same with its two fresh key pairs given instead of drawn (the X3DH ephemeral and the
  // first sending ratchet key): for fixed-input test vectors. Never use either key twice.
  static Result<RatchetSession> initiate(const Ed25519KeyPair& local_identity, const PreKeyBundle& bundle,
                                         const X25519KeyPair& x3dh_ephemeral,
                                         X25519KeyPair first_ratchet_key);

  // Responder: set up a session from a first message. The caller parses it (PreKeyMessage::parse),
  // looks up the SPK and OPK named in message.x3dh (nullptr if none) and passes them in. On
  // success, store the session and delete Accepted::consumed_one_time_prekey_id in one transaction.
  // The caller should also check session.remote_identity() against the sealed-sender identity.
  static Result<Accepted> accept(const Ed25519KeyPair& local_identity, const SignedPreKey& signed_prekey,
                                 const OneTimePreKey* one_time_prekey, const PreKeyMessage& message);

  // Returns an encoded Message, or a PreKeyMessage while awaiting the first reply.
  // Errc::limit_exceeded for plaintext over kMaxMessagePlaintextSize or an exhausted chain.
  Result<Bytes> encrypt(ByteView plaintext);

  // Accepts an encoded Message or a PreKeyMessage of THIS session (same X3DH base key; a
  // PreKeyMessage for another base key gives Errc::not_found: it starts a different session).
  // Errors: malformed, auth_failed (tampered/forged), replay (already decrypted),
  // limit_exceeded (more than kMaxSkipPerChain ahead). State is unchanged on every error.
  // If the peer's messages stay beyond kMaxSkipPerChain (more were lost than that in one chain),
  // this session cannot catch up: start a new one (like Signal's automatic session reset).
  Result<Bytes> decrypt(ByteView message);

  const Ed25519Public& local_identity() const { return local_identity_; }
  const Ed25519Public& remote_identity() const { return remote_identity_; }
  // The initiator's X3DH ephemeral key: names this session in PreKeyMessages.
  const X25519Public& base_key() const { return base_key_; }
  bool is_initiator() const { return is_initiator_; }
  bool awaiting_first_reply() const { return pending_x3dh_.has_value(); }
  std::size_t skipped_key_count() const { return skipped_.size(); }

  // Versioned binary state for the client's store; holds secrets (wipe/encrypt at rest).
  SecretBytes serialize() const;
  // Strict: Errc::malformed for anything serialize() could not have produced.
  static Result<RatchetSession> deserialize(ByteView bytes);
  // Explicit deep copy (tests; a transaction's scratch copy).
  [[nodiscard]] RatchetSession clone() const;

  RatchetSession(RatchetSession&&) noexcept = default;
  RatchetSession& operator=(RatchetSession&&) noexcept = default;
  ~RatchetSession() = default;

 private:
  struct SkippedKeyId {
    X25519Public ratchet_key{};
    std::uint32_t message_number = 0;
    auto operator<=>(const SkippedKeyId&) const = default;
  };
  struct SkippedKey {
    Secret<32> message_key;
    std::uint64_t order = 0;  // insertion counter: the smallest is evicted first
  };

  RatchetSession() = default;
  Result<Bytes> decrypt_message(const RatchetMessage& message);
  void store_skipped(const X25519Public& ratchet_key, std::uint32_t message_number, Secret<32> key);
  void erase_skipped(std::map<SkippedKeyId, SkippedKey>::iterator it);

  Ed25519Public local_identity_{};
  Ed25519Public remote_identity_{};
  X25519Public base_key_{};
  bool is_initiator_ = false;
  Bytes associated_data_;  // X3DH AD

  X25519KeyPair dh_self_;                           // DHs
  std::optional<X25519Public> dh_remote_;           // DHr
  Secret<32> root_key_;                             // RK
  std::optional<Secret<32>> send_chain_;            // CKs
  std::optional<Secret<32>> receive_chain_;         // CKr
  std::uint32_t send_count_ = 0;                    // Ns
  std::uint32_t receive_count_ = 0;                 // Nr
  std::uint32_t previous_send_count_ = 0;           // PN
  std::optional<X3dhHeader> pending_x3dh_;          // until the first reply
  std::vector<X25519Public> previous_remote_keys_;  // recent finished receiving chains
  std::map<SkippedKeyId, SkippedKey> skipped_;
  std::map<std::uint64_t, SkippedKeyId> skipped_by_age_;  // order -> id, for oldest-first eviction
  std::uint64_t skipped_order_ = 0;
};

struct RatchetSession::Accepted {
  RatchetSession session;
  Bytes plaintext;
  std::optional<PreKeyId> consumed_one_time_prekey_id;  // delete this OPK now
};

}  // namespace samizdat::crypto::e2e
