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

#include "crypto/e2e/ratchet_session.hpp"
#include "util/byte_reader.hpp"

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

Error invalid(std::string what) { return make_error(Errc::malformed, std::move(what)); }

Error damaged(const std::string& what) {
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
  append_u32_be(out, send_count_);
  append_u32_be(out, receive_count_);
  append_u32_be(out, previous_send_count_);
  if (pending_x3dh_) {
    append_u32_be(out, pending_x3dh_->signed_prekey_id);
    out.push_back(pending_x3dh_->one_time_prekey_id ? 1 : 0);
    if (pending_x3dh_->one_time_prekey_id) append_u32_be(out, *pending_x3dh_->one_time_prekey_id);
  }
  append_u32_be(out, static_cast<std::uint32_t>(previous_remote_keys_.size()));
  for (const auto& key : previous_remote_keys_) append(out, key);
  append_u32_be(out, static_cast<std::uint32_t>(skipped_.size()));
  for (const auto& [order, id] : skipped_by_age_) {
    append(out, id.ratchet_key);
    append_u32_be(out, id.message_number);
    append(out, skipped_.at(id).message_key.view());
  }
  SecretBytes secret(out.size());
  std::size_t pos = 0;
  put_secret(secret, pos, out);
  sodium_memzero(out.data(), out.size());
  return secret;
}

Result<RatchetSession> RatchetSession::deserialize(ByteView bytes) {
  RatchetSession s;
  // Every failure below becomes one "damaged: reset it" error (the reader's message says where).
  auto parse = [&s, bytes]() -> Status {
    ByteReader reader(bytes, "session state");
    auto magic = SZ_TRY(reader.bytes(4, "magic"));
    if (std::memcmp(magic.data(), kMagic, 4) != 0) return invalid("bad magic");
    if (SZ_TRY(reader.u8("version")) != kStateVersion) return invalid("unknown version");
    std::uint8_t flags = SZ_TRY(reader.u8("flags"));
    if ((flags & ~kAllFlags) != 0) return invalid("unknown flags");
    s.is_initiator_ = (flags & kInitiator) != 0;
    if ((flags & kPendingX3dh) != 0 && !s.is_initiator_)
      return invalid("responder with a pending X3DH header");
    s.local_identity_ = SZ_TRY(reader.array<32>("local identity"));
    s.remote_identity_ = SZ_TRY(reader.array<32>("remote identity"));
    s.base_key_ = SZ_TRY(reader.array<32>("base key"));
    s.dh_self_.secret_key = Secret<32>(SZ_TRY(reader.bytes(32, "ratchet secret key")));
    s.dh_self_.public_key = SZ_TRY(reader.array<32>("ratchet public key"));
    if ((flags & kHasRemote) != 0) s.dh_remote_ = SZ_TRY(reader.array<32>("remote ratchet key"));
    s.root_key_ = Secret<32>(SZ_TRY(reader.bytes(32, "root key")));
    if ((flags & kHasSendChain) != 0) s.send_chain_.emplace(SZ_TRY(reader.bytes(32, "sending chain key")));
    if ((flags & kHasReceiveChain) != 0) {
      s.receive_chain_.emplace(SZ_TRY(reader.bytes(32, "receiving chain key")));
      if (!s.dh_remote_) return invalid("receiving chain without a remote ratchet key");
    }
    s.send_count_ = SZ_TRY(reader.u32("sending count"));
    s.receive_count_ = SZ_TRY(reader.u32("receiving count"));
    s.previous_send_count_ = SZ_TRY(reader.u32("previous sending count"));
    if ((flags & kPendingX3dh) != 0) {
      X3dhHeader pending;
      pending.initiator_identity = s.local_identity_;
      pending.ephemeral_key = s.base_key_;
      pending.signed_prekey_id = SZ_TRY(reader.u32("pending signed prekey id"));
      std::uint8_t has_opk = SZ_TRY(reader.u8("pending one-time prekey flag"));
      if (has_opk > 1) return invalid("bad pending X3DH header");
      if (has_opk == 1) pending.one_time_prekey_id = SZ_TRY(reader.u32("pending one-time prekey id"));
      s.pending_x3dh_ = pending;
    }
    std::uint32_t previous_count = SZ_TRY(reader.u32("previous chain count"));
    if (previous_count > kMaxPreviousRemoteKeys) return invalid("too many previous chains");
    s.previous_remote_keys_.resize(previous_count);
    for (auto& key : s.previous_remote_keys_) key = SZ_TRY(reader.array<32>("previous chain key"));
    std::uint32_t skipped_count = SZ_TRY(reader.u32("skipped key count"));
    if (skipped_count > kMaxSkippedKeys) return invalid("too many skipped keys");
    if (reader.remaining() != std::size_t{skipped_count} * 68)
      return invalid("skipped keys do not fill the rest");
    for (std::uint32_t i = 0; i < skipped_count; ++i) {
      SkippedKeyId id;
      id.ratchet_key = SZ_TRY(reader.array<32>("skipped key's ratchet key"));
      id.message_number = SZ_TRY(reader.u32("skipped key's message number"));
      ByteView key = SZ_TRY(reader.bytes(32, "skipped key"));
      if (s.skipped_.count(id) != 0) return invalid("duplicate skipped key");
      std::uint64_t order = s.skipped_order_++;
      s.skipped_.emplace(id, SkippedKey{Secret<32>(key), order});
      s.skipped_by_age_.emplace(order, id);
    }
    return reader.finish();
  };
  if (auto parsed = parse(); !parsed.ok()) return damaged(parsed.error().message);
  s.associated_data_.reserve(kX3dhAssociatedDataSize);
  append(s.associated_data_, s.is_initiator_ ? s.local_identity_ : s.remote_identity_);
  append(s.associated_data_, s.is_initiator_ ? s.remote_identity_ : s.local_identity_);
  return s;
}

}  // namespace samizdat::crypto::e2e
