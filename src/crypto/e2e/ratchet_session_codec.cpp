// RatchetSession::serialize / deserialize: the session state the client stores.
//
//   "SZRS" || version(1)=1 || flags(1) || local_identity(32) || remote_identity(32) || base_key(32)
//   || dh_self_secret(32) || dh_self_public(32) || [dh_remote(32)] || root_key(32) || [send_chain(32)] ||
//   [receive_chain(32)]
//   || Ns(u32) || Nr(u32) || PN(u32) || [pending: signed_prekey_id(u32) || has_opk(1) || [opk_id(u32)]]
//   || previous_remote_count(u32) || keys(32 each) || skipped_count(u32) || (ratchet_key(32) || n(u32) ||
//   mk(32))*
//
// Loading is on the client's per-message path (load, decrypt, store), so it avoids curve
// operations: the DHs public key is stored rather than recomputed, and identity keys are not
// re-validated (they were when the session was created).
// flags: 1 initiator, 2 has DHr, 4 has CKs, 8 has CKr, 16 pending X3DH header. Skipped keys are
// written oldest first so eviction order survives a round trip.
#include <cstring>

#include "crypto/e2e/byte_reader.hpp"
#include "crypto/e2e/ratchet_session.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr char kMagic[4] = {'S', 'Z', 'R', 'S'};
constexpr std::uint8_t kStateVersion = 1;
enum Flags : std::uint8_t {
  kInitiator = 1,
  kHasRemote = 2,
  kHasSendChain = 4,
  kHasReceiveChain = 8,
  kPendingX3dh = 16,
  kAllFlags = 31,
};

Error malformed(const std::string& what) {
  return make_error(Errc::malformed,
                    "stored ratchet session is damaged (" + what + "): the session must be reset");
}

void put_secret(SecretBytes& out, std::size_t& pos, ByteView bytes) {
  std::memcpy(out.data() + pos, bytes.data(), bytes.size());
  pos += bytes.size();
}

}  // namespace

SecretBytes RatchetSession::serialize() const {
  // Built in a plain buffer reserved up front (no reallocation leaves copies), then moved into
  // SecretBytes which wipes on destruction.
  Bytes out;
  out.reserve(4 + 2 + 32 * 9 + 12 + 10 + 1 + 32 * previous_remote_keys_.size() + 4 + skipped_.size() * 68);
  out.insert(out.end(), kMagic, kMagic + 4);
  out.push_back(kStateVersion);
  std::uint8_t flags = (is_initiator_ ? kInitiator : 0) | (dh_remote_ ? kHasRemote : 0) |
                       (send_chain_ ? kHasSendChain : 0) | (receive_chain_ ? kHasReceiveChain : 0) |
                       (pending_x3dh_ ? kPendingX3dh : 0);
  out.push_back(flags);
  append(out, local_identity_);
  append(out, remote_identity_);
  append(out, base_key_);
  append(out, dh_self_.secret_key.view());
  append(out, dh_self_.public_key);
  if (dh_remote_) append(out, *dh_remote_);
  append(out, root_key_.view());
  if (send_chain_) append(out, send_chain_->view());
  if (receive_chain_) append(out, receive_chain_->view());
  put_u32(out, send_count_);
  put_u32(out, receive_count_);
  put_u32(out, previous_send_count_);
  if (pending_x3dh_) {
    put_u32(out, pending_x3dh_->signed_prekey_id);
    out.push_back(pending_x3dh_->one_time_prekey_id ? 1 : 0);
    if (pending_x3dh_->one_time_prekey_id) put_u32(out, *pending_x3dh_->one_time_prekey_id);
  }
  put_u32(out, static_cast<std::uint32_t>(previous_remote_keys_.size()));
  for (const auto& key : previous_remote_keys_) append(out, key);
  put_u32(out, static_cast<std::uint32_t>(skipped_.size()));
  for (const auto& [order, id] : skipped_by_age_) {
    append(out, id.ratchet_key);
    put_u32(out, id.message_number);
    append(out, skipped_.at(id).message_key.view());
  }
  SecretBytes secret(out.size());
  std::size_t pos = 0;
  put_secret(secret, pos, out);
  sodium_memzero(out.data(), out.size());
  return secret;
}

Result<RatchetSession> RatchetSession::deserialize(ByteView bytes) {
  ByteReader reader(bytes);
  std::array<std::uint8_t, 4> magic{};
  std::uint8_t version = 0, flags = 0;
  if (!reader.read_array(magic) || std::memcmp(magic.data(), kMagic, 4) != 0) return malformed("bad magic");
  if (!reader.read_u8(version) || version != kStateVersion) return malformed("unknown version");
  if (!reader.read_u8(flags) || (flags & ~kAllFlags) != 0) return malformed("unknown flags");

  RatchetSession s;
  s.is_initiator_ = (flags & kInitiator) != 0;
  if ((flags & kPendingX3dh) != 0 && !s.is_initiator_)
    return malformed("responder with a pending X3DH header");
  std::array<std::uint8_t, 32> secret{};
  if (!reader.read_array(s.local_identity_) || !reader.read_array(s.remote_identity_) ||
      !reader.read_array(s.base_key_) || !reader.read_array(secret)) {
    return malformed("truncated");
  }
  s.dh_self_.secret_key = Secret<32>(secret);
  sodium_memzero(secret.data(), secret.size());
  if (!reader.read_array(s.dh_self_.public_key)) return malformed("truncated");
  if ((flags & kHasRemote) != 0) {
    X25519Public remote{};
    if (!reader.read_array(remote)) return malformed("truncated");
    s.dh_remote_ = remote;
  }
  auto read_secret = [&](Secret<32>& into) {
    ByteView view;
    if (!reader.read_view(32, view)) return false;
    into = Secret<32>(view);
    return true;
  };
  if (!read_secret(s.root_key_)) return malformed("truncated");
  if ((flags & kHasSendChain) != 0) {
    s.send_chain_.emplace();
    if (!read_secret(*s.send_chain_)) return malformed("truncated");
  }
  if ((flags & kHasReceiveChain) != 0) {
    s.receive_chain_.emplace();
    if (!read_secret(*s.receive_chain_)) return malformed("truncated");
    if (!s.dh_remote_) return malformed("receiving chain without a remote ratchet key");
  }
  if (!reader.read_u32(s.send_count_) || !reader.read_u32(s.receive_count_) ||
      !reader.read_u32(s.previous_send_count_)) {
    return malformed("truncated");
  }
  if ((flags & kPendingX3dh) != 0) {
    X3dhHeader pending;
    pending.initiator_identity = s.local_identity_;
    pending.ephemeral_key = s.base_key_;
    std::uint8_t has_opk = 0;
    if (!reader.read_u32(pending.signed_prekey_id) || !reader.read_u8(has_opk) || has_opk > 1) {
      return malformed("bad pending X3DH header");
    }
    if (has_opk == 1) {
      std::uint32_t id = 0;
      if (!reader.read_u32(id)) return malformed("truncated");
      pending.one_time_prekey_id = id;
    }
    s.pending_x3dh_ = pending;
  }
  std::uint32_t previous_count = 0;
  if (!reader.read_u32(previous_count) || previous_count > kMaxPreviousRemoteKeys) {
    return malformed("too many previous chains");
  }
  s.previous_remote_keys_.resize(previous_count);
  for (auto& key : s.previous_remote_keys_) {
    if (!reader.read_array(key)) return malformed("truncated");
  }
  std::uint32_t skipped_count = 0;
  if (!reader.read_u32(skipped_count) || skipped_count > kMaxSkippedKeys)
    return malformed("too many skipped keys");
  if (reader.remaining() != std::size_t{skipped_count} * 68)
    return malformed("skipped keys do not fill the rest");
  for (std::uint32_t i = 0; i < skipped_count; ++i) {
    SkippedKeyId id;
    ByteView key;
    if (!reader.read_array(id.ratchet_key) || !reader.read_u32(id.message_number) ||
        !reader.read_view(32, key)) {
      return malformed("truncated");
    }
    if (s.skipped_.count(id) != 0) return malformed("duplicate skipped key");
    std::uint64_t order = s.skipped_order_++;
    s.skipped_.emplace(id, SkippedKey{Secret<32>(key), order});
    s.skipped_by_age_.emplace(order, id);
  }
  if (!reader.at_end()) return malformed("trailing bytes");
  s.associated_data_.reserve(kX3dhAssociatedDataSize);
  append(s.associated_data_, s.is_initiator_ ? s.local_identity_ : s.remote_identity_);
  append(s.associated_data_, s.is_initiator_ ? s.remote_identity_ : s.local_identity_);
  return s;
}

}  // namespace samizdat::crypto::e2e
