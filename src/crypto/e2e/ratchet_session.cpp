#include "crypto/e2e/ratchet_session.hpp"

#include <algorithm>
#include <limits>

#include "crypto/e2e/ratchet_kdf.hpp"

namespace samizdat::crypto::e2e {
namespace {

// Message keys derived while looking ahead; stored only once the message authenticates.
struct DerivedSkip {
  X25519Public ratchet_key{};
  std::uint32_t message_number = 0;
  Secret<32> message_key;
};

// Derives keys for numbers [from, until) into `out`, returns the chain key at `until`.
Secret<32> skip_chain(const X25519Public& ratchet_key, Secret<32> chain_key, std::uint32_t from,
                      std::uint32_t until, std::vector<DerivedSkip>& out) {
  for (std::uint32_t n = from; n < until; ++n) {
    ChainStep step = kdf_chain(chain_key);
    out.push_back({ratchet_key, n, std::move(step.message_key)});
    chain_key = std::move(step.chain_key);
  }
  return chain_key;
}

Bytes associated_data_with_header(ByteView x3dh_ad, const MessageHeader& header) {
  Bytes ad;
  ad.reserve(x3dh_ad.size() + kMessageHeaderSize);
  append(ad, x3dh_ad);
  header.encode_to(ad);
  return ad;
}

Error replay_error() {
  return make_error(Errc::replay,
                    "message was already decrypted (or its key was discarded as too old); ignoring it");
}

}  // namespace

Result<RatchetSession> RatchetSession::initiate(const Ed25519KeyPair& local_identity,
                                                const PreKeyBundle& bundle) {
  return initiate(local_identity, bundle, X25519KeyPair::generate(), X25519KeyPair::generate());
}

Result<RatchetSession> RatchetSession::initiate(const Ed25519KeyPair& local_identity,
                                                const PreKeyBundle& bundle,
                                                const X25519KeyPair& x3dh_ephemeral,
                                                X25519KeyPair first_ratchet_key) {
  X3dhInitiated x3dh = SZ_TRY(x3dh_initiate(local_identity, bundle, x3dh_ephemeral));
  RatchetSession s;
  s.local_identity_ = local_identity.public_key;
  s.remote_identity_ = bundle.identity_key;
  s.base_key_ = x3dh.header.ephemeral_key;
  s.is_initiator_ = true;
  s.associated_data_ = std::move(x3dh.associated_data);
  // RatchetInitAlice: DHs fresh, DHr = Bob's signed prekey, RK/CKs = KDF_RK(SK, DH(DHs, DHr)).
  s.dh_self_ = std::move(first_ratchet_key);
  s.dh_remote_ = x3dh.responder_signed_prekey;
  Secret<32> dh_out = SZ_TRY(x25519(s.dh_self_.secret_key, *s.dh_remote_));
  RootStep root = kdf_root(x3dh.shared_key, dh_out);
  s.root_key_ = std::move(root.root_key);
  s.send_chain_ = std::move(root.chain_key);
  s.pending_x3dh_ = x3dh.header;
  return s;
}

Result<RatchetSession::Accepted> RatchetSession::accept(const Ed25519KeyPair& local_identity,
                                                        const SignedPreKey& signed_prekey,
                                                        const OneTimePreKey* one_time_prekey,
                                                        const PreKeyMessage& message) {
  X3dhResponded x3dh = SZ_TRY(x3dh_respond(local_identity, signed_prekey, one_time_prekey, message.x3dh));
  RatchetSession s;
  s.local_identity_ = local_identity.public_key;
  s.remote_identity_ = message.x3dh.initiator_identity;
  s.base_key_ = message.x3dh.ephemeral_key;
  s.is_initiator_ = false;
  s.associated_data_ = std::move(x3dh.associated_data);
  // RatchetInitBob: DHs = the signed prekey, RK = SK; the first message performs the DH step.
  s.dh_self_ = signed_prekey.key_pair.clone();
  s.root_key_ = std::move(x3dh.shared_key);
  Bytes plaintext = SZ_TRY(s.decrypt_message(message.message));
  return Accepted{std::move(s), std::move(plaintext), x3dh.consumed_one_time_prekey_id};
}

Result<Bytes> RatchetSession::encrypt(ByteView plaintext) {
  if (plaintext.size() > kMaxMessagePlaintextSize) {
    return make_error(Errc::limit_exceeded,
                      "message of " + std::to_string(plaintext.size()) +
                          " bytes is larger than the maximum; send it as an attachment");
  }
  if (!send_chain_) return make_error(Errc::internal, "session has no sending chain yet");
  if (send_count_ == std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::limit_exceeded, "sending chain exhausted: wait for a reply before sending more");
  }
  ChainStep step = kdf_chain(*send_chain_);
  MessageHeader header{dh_self_.public_key, previous_send_count_, send_count_};

  Bytes out;
  out.reserve(kMaxPreKeyMessagePrefixSize + 1 + kMessageHeaderSize + plaintext.size() + 16);
  if (pending_x3dh_) encode_prekey_message_prefix(*pending_x3dh_, out);
  out.push_back(static_cast<std::uint8_t>(MessageType::message));
  header.encode_to(out);
  seal_with_message_key(step.message_key, associated_data_with_header(associated_data_, header), plaintext,
                        out);

  send_chain_ = std::move(step.chain_key);
  ++send_count_;
  return out;
}

Result<Bytes> RatchetSession::decrypt(ByteView message) {
  MessageType type = SZ_TRY(peek_message_type(message));
  if (type == MessageType::prekey_message) {
    PreKeyMessage prekey = SZ_TRY(PreKeyMessage::parse(message));
    if (is_initiator_ || prekey.x3dh.ephemeral_key != base_key_ ||
        prekey.x3dh.initiator_identity != remote_identity_) {
      return make_error(Errc::not_found,
                        "prekey message belongs to a different session: set up a new one from it");
    }
    return decrypt_message(prekey.message);
  }
  RatchetMessage parsed = SZ_TRY(RatchetMessage::parse(message));
  return decrypt_message(parsed);
}

Result<Bytes> RatchetSession::decrypt_message(const RatchetMessage& message) {
  const MessageHeader& header = message.header;
  Bytes ad = associated_data_with_header(associated_data_, header);

  // 1. A key skipped earlier: use it once, then wipe it.
  if (auto it = skipped_.find(SkippedKeyId{header.ratchet_key, header.message_number});
      it != skipped_.end()) {
    Bytes plaintext = SZ_TRY(open_with_message_key(it->second.message_key, ad, message.ciphertext));
    erase_skipped(it);
    pending_x3dh_.reset();
    return plaintext;
  }

  // 2. The current receiving chain.
  if (dh_remote_ && header.ratchet_key == *dh_remote_) {
    if (!receive_chain_) return make_error(Errc::auth_failed, "message does not belong to this session");
    if (header.message_number < receive_count_) return replay_error();
    if (header.message_number == std::numeric_limits<std::uint32_t>::max()) {
      return make_error(Errc::limit_exceeded, "receiving chain exhausted");
    }
    if (header.message_number - receive_count_ > kMaxSkipPerChain) {
      return make_error(Errc::limit_exceeded,
                        "message is more than " + std::to_string(kMaxSkipPerChain) +
                            " messages ahead of the last one received; earlier ones are missing");
    }
    std::vector<DerivedSkip> skipped;
    Secret<32> chain = skip_chain(header.ratchet_key, receive_chain_->clone(), receive_count_,
                                  header.message_number, skipped);
    ChainStep step = kdf_chain(chain);
    Bytes plaintext = SZ_TRY(open_with_message_key(step.message_key, ad, message.ciphertext));
    // Commit.
    for (auto& skip : skipped)
      store_skipped(skip.ratchet_key, skip.message_number, std::move(skip.message_key));
    receive_chain_ = std::move(step.chain_key);
    receive_count_ = header.message_number + 1;
    pending_x3dh_.reset();
    return plaintext;
  }

  // 3. An old chain whose remaining keys are gone: the message can never decrypt again.
  for (const auto& key : previous_remote_keys_) {
    if (key == header.ratchet_key) return replay_error();
  }

  // 4. A new ratchet key from the peer: DH ratchet step, computed aside and committed on success.
  if (header.message_number > kMaxSkipPerChain) {
    return make_error(Errc::limit_exceeded, "message is more than " + std::to_string(kMaxSkipPerChain) +
                                                " messages into a new chain; earlier ones are missing");
  }
  std::vector<DerivedSkip> skipped;
  if (receive_chain_ && header.previous_chain_length > receive_count_) {
    // Keys left in the finished chain. Beyond kMaxSkipPerChain they are abandoned rather than
    // failing: a long lost burst must not wedge the session forever, and the bound keeps a forged
    // header from costing more than kMaxSkipPerChain HMACs.
    std::uint32_t until =
        receive_count_ + std::min(header.previous_chain_length - receive_count_, kMaxSkipPerChain);
    (void)skip_chain(*dh_remote_, receive_chain_->clone(), receive_count_, until, skipped);
  }
  auto dh_receive = x25519(dh_self_.secret_key, header.ratchet_key);
  if (!dh_receive.ok()) return make_error(Errc::auth_failed, "message carries an invalid ratchet key");
  RootStep receive_root = kdf_root(root_key_, *dh_receive);
  Secret<32> chain =
      skip_chain(header.ratchet_key, std::move(receive_root.chain_key), 0, header.message_number, skipped);
  ChainStep step = kdf_chain(chain);
  Bytes plaintext = SZ_TRY(open_with_message_key(step.message_key, ad, message.ciphertext));

  // Authenticated: finish the step (new sending key pair and chain) and commit.
  X25519KeyPair next_self = X25519KeyPair::generate();
  auto dh_send = x25519(next_self.secret_key, header.ratchet_key);
  if (!dh_send.ok()) return make_error(Errc::auth_failed, "message carries an invalid ratchet key");
  RootStep send_root = kdf_root(receive_root.root_key, *dh_send);

  for (auto& skip : skipped)
    store_skipped(skip.ratchet_key, skip.message_number, std::move(skip.message_key));
  if (dh_remote_) {
    previous_remote_keys_.push_back(*dh_remote_);
    if (previous_remote_keys_.size() > kMaxPreviousRemoteKeys)
      previous_remote_keys_.erase(previous_remote_keys_.begin());
  }
  previous_send_count_ = send_count_;
  send_count_ = 0;
  receive_count_ = header.message_number + 1;
  dh_remote_ = header.ratchet_key;
  dh_self_ = std::move(next_self);
  root_key_ = std::move(send_root.root_key);
  send_chain_ = std::move(send_root.chain_key);
  receive_chain_ = std::move(step.chain_key);
  pending_x3dh_.reset();
  return plaintext;
}

void RatchetSession::store_skipped(const X25519Public& ratchet_key, std::uint32_t message_number,
                                   Secret<32> key) {
  SkippedKeyId id{ratchet_key, message_number};
  if (skipped_.count(id) != 0) return;  // cannot happen for honest chains; keep the first
  std::uint64_t order = skipped_order_++;
  skipped_.emplace(id, SkippedKey{std::move(key), order});
  skipped_by_age_.emplace(order, id);
  while (skipped_.size() > kMaxSkippedKeys) {
    auto oldest = skipped_by_age_.begin();
    auto it = skipped_.find(oldest->second);
    skipped_by_age_.erase(oldest);
    if (it != skipped_.end()) skipped_.erase(it);  // Secret's destructor wipes the key
  }
}

void RatchetSession::erase_skipped(std::map<SkippedKeyId, SkippedKey>::iterator it) {
  skipped_by_age_.erase(it->second.order);
  skipped_.erase(it);
}

RatchetSession RatchetSession::clone() const {
  RatchetSession s;
  s.local_identity_ = local_identity_;
  s.remote_identity_ = remote_identity_;
  s.base_key_ = base_key_;
  s.is_initiator_ = is_initiator_;
  s.associated_data_ = associated_data_;
  s.dh_self_ = dh_self_.clone();
  s.dh_remote_ = dh_remote_;
  s.root_key_ = root_key_.clone();
  if (send_chain_) s.send_chain_ = send_chain_->clone();
  if (receive_chain_) s.receive_chain_ = receive_chain_->clone();
  s.send_count_ = send_count_;
  s.receive_count_ = receive_count_;
  s.previous_send_count_ = previous_send_count_;
  s.pending_x3dh_ = pending_x3dh_;
  s.previous_remote_keys_ = previous_remote_keys_;
  for (const auto& [id, key] : skipped_)
    s.skipped_.emplace(id, SkippedKey{key.message_key.clone(), key.order});
  s.skipped_by_age_ = skipped_by_age_;
  s.skipped_order_ = skipped_order_;
  return s;
}

}  // namespace samizdat::crypto::e2e
