#include "transport/obfs/obfs_handshake.hpp"

#include "crypto/chacha20.hpp"
#include "crypto/keyed_hash.hpp"
#include "crypto/secret.hpp"
#include "transport/noise/noise_handshake.hpp"
#include "transport/obfs/obfs_shaping.hpp"

namespace samizdat::transport::obfs {
namespace noise = crypto::noise;
namespace {

constexpr std::uint8_t kClientToServer = 'c';
constexpr std::uint8_t kServerToClient = 's';
constexpr std::string_view kConfirmLabel = "samizdat/obfs/2 confirm";

struct RecordKeys {
  Key mask{};
  Key aead{};
};

std::int64_t epoch_of(std::int64_t unix_ms) { return unix_ms / kEpochMillis; }

Key length_key(const ObfsSecrets& secrets, ByteView salt, std::uint8_t direction) {
  return secrets.subkey("record length", salt, ByteView(&direction, 1));
}

Key aead_key(const ObfsSecrets& secrets, ByteView salt, std::uint8_t direction, std::int64_t epoch) {
  std::array<std::uint8_t, 9> info{};
  info[0] = direction;
  put_u64_be(info.data() + 1, static_cast<std::uint64_t>(epoch));
  return secrets.subkey("record key", salt, info);
}

std::uint16_t length_mask(const Key& key, std::uint64_t counter) {
  std::array<std::uint8_t, 8> nonce{};
  put_u64_be(nonce.data(), counter);
  std::array<std::uint8_t, 2> mask{};
  crypto::chacha20_keystream(mask, nonce, key);
  return get_u16_be(mask.data());
}

std::array<std::uint8_t, 12> aead_nonce(std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  put_u64_be(nonce.data() + 4, counter);
  return nonce;
}

std::uint64_t random_word() {
  std::uint64_t word = 0;
  crypto::fill_random(MutableByteView(reinterpret_cast<std::uint8_t*>(&word), sizeof(word)));
  return word;
}

// masked u16 length || AEAD(u16 content length || content || zero padding)
Bytes seal_record(const Key& mask_key, const Key& key, std::uint64_t counter, ByteView content,
                  const wire::PaddingPolicy& padding) {
  std::size_t pad = padding.padding_for(content.size(), random_word()) + random_word() % 32;
  std::size_t plain_size = 2 + content.size() + pad;
  if (plain_size + kRecordTag > kMaxRecord)
    pad -= plain_size + kRecordTag - kMaxRecord, plain_size = kMaxRecord - kRecordTag;
  Bytes plain(plain_size, 0);
  put_u16_be(plain.data(), static_cast<std::uint16_t>(content.size()));
  std::copy(content.begin(), content.end(), plain.begin() + 2);
  Bytes out(2 + plain_size + kRecordTag);
  put_u16_be(out.data(),
             static_cast<std::uint16_t>((plain_size + kRecordTag) ^ length_mask(mask_key, counter)));
  auto nonce = aead_nonce(counter);
  crypto::chacha20poly1305_seal(MutableByteView(out).subspan(2), plain, nonce, key);
  crypto::wipe(plain);
  return out;
}

// The AEAD size of a record from its masked length; nullopt outside [kMinRecord, kMaxRecord].
std::optional<std::size_t> record_size(const Key& mask_key, std::uint64_t counter, ByteView masked) {
  std::size_t size = get_u16_be(masked.data()) ^ length_mask(mask_key, counter);
  if (size < kMinRecord || size > kMaxRecord) return std::nullopt;
  return size;
}

std::optional<Bytes> open_record(const Key& key, std::uint64_t counter, ByteView sealed) {
  Bytes plain(sealed.size() - kRecordTag);
  auto nonce = aead_nonce(counter);
  if (!crypto::chacha20poly1305_open(plain, sealed, nonce, key)) return std::nullopt;
  std::size_t length = get_u16_be(plain.data());
  if (length > plain.size() - 2) return std::nullopt;
  return Bytes(plain.begin() + 2, plain.begin() + 2 + static_cast<std::ptrdiff_t>(length));
}

Key confirmation(const Key& liveness, ByteView salt) {
  return crypto::blake2b<32>(liveness, {as_bytes(kConfirmLabel), salt});
}

// The prologue names the shaping mode too, so Noise itself refuses a peer of another mode
// (the record keys already differ: the mode is part of the endpoint root).
std::string prologue(Shaping shaping) {
  return std::string(kObfsPrologue) + " " + std::string(to_string(shaping));
}

Result<noise::HandshakeState> make_noise(Pattern pattern, Shaping shaping, noise::Role role, const Psk& psk,
                                         std::optional<crypto::X25519KeyPair> local_static,
                                         std::optional<crypto::X25519Public> remote_static) {
  auto noise_pattern = pattern == Pattern::ik_psk2 ? HandshakePattern::ik_psk2 : HandshakePattern::nk_psk2;
  return make_handshake_state(noise_pattern, prologue(shaping), role, psk, std::move(local_static),
                              remote_static);
}

}  // namespace

// ---------------------------------------------------------------------------------
ServerHandshake::ServerHandshake(const ObfsSecrets& secrets, const crypto::X25519KeyPair& server_static,
                                 const Psk& psk, std::int64_t unix_ms)
    : secrets_(secrets), server_static_(server_static), psk_(psk), unix_ms_(unix_ms) {
  if (secrets_.shaping == Shaping::prefix) {
    first_target_ = kPrefixSaltHead;
  } else {
    first_target_ = kRandomSaltSize;
    phase_ = Phase::salt_rest;
  }
}

std::size_t ServerHandshake::wanted() const {
  switch (phase_) {
    case Phase::salt_first:
    case Phase::salt_rest:
    case Phase::hello_length:
    case Phase::hello_record:
      if (secrets_.shaping == Shaping::popcount) return popcount_encoded_size(first_target_) - first_wire_;
      return first_target_ - first_.size();
    case Phase::confirm_length:
    case Phase::confirm_record:
      return second_target_ - second_.size();
    case Phase::done:
    case Phase::failed:
      return 0;
  }
  return 0;
}

Status ServerHandshake::fail(Errc code, std::string message) {
  phase_ = Phase::failed;
  noise_.reset();
  crypto::wipe(liveness_);
  return make_error(code, std::move(message));
}

Status ServerHandshake::feed(ByteView bytes) {
  if (phase_ == Phase::failed) return make_error(Errc::protocol, "the obfs handshake already failed");
  if (phase_ == Phase::done) return make_error(Errc::protocol, "the obfs handshake is already complete");
  if (bytes.size() != wanted()) {
    return make_error(Errc::invalid_argument, "feed exactly wanted() bytes to the obfs handshake");
  }
  consumed_ += bytes.size();
  if (phase_ == Phase::confirm_length || phase_ == Phase::confirm_record) {
    append(second_, bytes);
  } else if (secrets_.shaping == Shaping::popcount) {
    first_wire_ += bytes.size();
    auto decoded = popcount_decode(secrets_.popcount_alphabet, bytes, first_);
    if (!decoded.ok()) return fail(Errc::malformed, decoded.error().message);
  } else {
    append(first_, bytes);
  }
  return advance();
}

Status ServerHandshake::advance() {
  for (;;) {
    switch (phase_) {
      case Phase::salt_first: {
        auto length = printable_salt_length(secrets_.prefix, ByteView(first_).first(kPrefixSaltHead));
        if (!length) return fail(Errc::malformed, "the first packet does not start with a salt");
        first_target_ = *length;
        phase_ = Phase::salt_rest;
        break;
      }
      case Phase::salt_rest:
        if (first_.size() < first_target_) return {};
        salt_size_ = first_target_;
        first_target_ += 2;
        phase_ = Phase::hello_length;
        break;
      case Phase::hello_length: {
        if (first_.size() < first_target_) return {};
        ByteView salt(first_.data(), salt_size_);
        auto size = record_size(length_key(secrets_, salt, kClientToServer), 0,
                                ByteView(first_).subspan(salt_size_, 2));
        if (!size) return fail(Errc::malformed, "the first record's length is out of range");
        first_target_ += *size;
        phase_ = Phase::hello_record;
        break;
      }
      case Phase::hello_record: {
        if (first_.size() < first_target_) return {};
        SZ_CHECK(open_hello());
        second_target_ = 2;
        phase_ = Phase::confirm_length;
        return {};
      }
      case Phase::confirm_length: {
        if (second_.size() < second_target_) return {};
        ByteView salt(first_.data(), salt_size_);
        auto size = record_size(length_key(secrets_, salt, kClientToServer), 1, second_);
        if (!size) return fail(Errc::malformed, "the confirmation record's length is out of range");
        second_target_ += *size;
        phase_ = Phase::confirm_record;
        break;
      }
      case Phase::confirm_record:
        if (second_.size() < second_target_) return {};
        SZ_CHECK(open_confirm());
        phase_ = Phase::done;
        return {};
      case Phase::done:
      case Phase::failed:
        return {};
    }
  }
}

Status ServerHandshake::open_hello() {
  ByteView salt(first_.data(), salt_size_);
  ByteView sealed = ByteView(first_).subspan(salt_size_ + 2, first_target_ - salt_size_ - 2);
  std::optional<Bytes> content;
  auto now = epoch_of(unix_ms_);
  for (std::int64_t epoch : {now, now - 1, now + 1}) {
    content = open_record(aead_key(secrets_, salt, kClientToServer, epoch), 0, sealed);
    if (content) {
      epoch_ = epoch;
      break;
    }
  }
  if (!content)
    return fail(Errc::auth_failed,
                "the first record does not authenticate (junk, or a stale or foreign handshake)");
  if (content->empty() || (*content)[0] > 1) return fail(Errc::malformed, "unknown handshake pattern");
  pattern_ = static_cast<Pattern>((*content)[0]);
  auto state = make_noise(pattern_, secrets_.shaping, noise::Role::responder, psk_, server_static_.clone(),
                          std::nullopt);
  if (!state.ok()) return fail(state.error().code, state.error().message);
  auto payload = state->read_message(ByteView(*content).subspan(1));
  if (!payload.ok())
    return fail(Errc::auth_failed, "Noise message 1 does not authenticate: " + payload.error().message);
  if (payload->size() != liveness_.size())
    return fail(Errc::malformed, "Noise message 1 carries no liveness secret");
  std::copy(payload->begin(), payload->end(), liveness_.begin());
  if (pattern_ == Pattern::ik_psk2) client_static_ = state->remote_static();
  noise_.emplace(std::move(*state));
  return {};
}

Status ServerHandshake::open_confirm() {
  ByteView salt(first_.data(), salt_size_);
  auto content =
      open_record(aead_key(secrets_, salt, kClientToServer, epoch_), 1, ByteView(second_).subspan(2));
  auto expected = confirmation(liveness_, salt);
  if (!content || !equal_constant_time(*content, expected)) {
    return fail(Errc::auth_failed, "the confirmation record does not authenticate");
  }
  auto message2 = noise_->write_message({});
  if (!message2.ok()) return fail(message2.error().code, message2.error().message);
  reply_ =
      seal_record(length_key(secrets_, salt, kServerToClient),
                  aead_key(secrets_, salt, kServerToClient, epoch_), 0, *message2, secrets_.reply_padding);
  auto keys = noise_->split();
  if (!keys.ok()) return fail(keys.error().code, keys.error().message);
  keys_.emplace(std::move(*keys));
  noise_.reset();
  return {};
}

ByteView ServerHandshake::replay_key() const {
  return ByteView(first_).first(std::min(first_.size(), first_target_));
}

Result<noise::TransportKeys> ServerHandshake::take_keys() {
  if (!keys_) return make_error(Errc::protocol, "the obfs handshake is not complete");
  auto keys = std::move(*keys_);
  keys_.reset();
  return keys;
}

// ---------------------------------------------------------------------------------
Result<ClientHandshake> ClientHandshake::start(const ObfsSecrets& secrets,
                                               const crypto::X25519Public& server_static, const Psk& psk,
                                               const crypto::X25519KeyPair* client_static,
                                               std::int64_t unix_ms) {
  auto pattern = client_static != nullptr ? Pattern::ik_psk2 : Pattern::nk_psk2;
  std::optional<crypto::X25519KeyPair> local;
  if (client_static != nullptr) local = client_static->clone();
  auto state = SZ_TRY(
      make_noise(pattern, secrets.shaping, noise::Role::initiator, psk, std::move(local), server_static));
  ClientHandshake handshake(secrets, std::move(state));
  handshake.epoch_ = epoch_of(unix_ms);
  handshake.salt_ = secrets.shaping == Shaping::prefix ? make_printable_salt(secrets.prefix)
                                                       : crypto::random_bytes(kRandomSaltSize);

  crypto::Secret<32> liveness = crypto::Secret<32>::random();
  auto message1 = SZ_TRY(handshake.noise_.write_message(liveness.view()));
  Bytes content;
  content.reserve(1 + message1.size());
  content.push_back(static_cast<std::uint8_t>(pattern));
  append(content, message1);
  auto mask = length_key(secrets, handshake.salt_, kClientToServer);
  auto key = aead_key(secrets, handshake.salt_, kClientToServer, handshake.epoch_);
  Bytes raw = handshake.salt_;
  append(raw, seal_record(mask, key, 0, content, secrets.hello_padding));
  if (secrets.shaping == Shaping::popcount) {
    popcount_encode(secrets.popcount_alphabet, raw, handshake.first_);
  } else {
    handshake.first_ = std::move(raw);
  }
  Key live{};
  std::copy(liveness.view().begin(), liveness.view().end(), live.begin());
  auto confirm = confirmation(live, handshake.salt_);
  crypto::wipe(live);
  handshake.second_ = seal_record(mask, key, 1, confirm, secrets.confirm_padding);
  return handshake;
}

std::size_t ClientHandshake::wanted() const {
  if (failed_ || keys_) return 0;
  return reply_target_ - reply_.size();
}

Status ClientHandshake::feed(ByteView bytes) {
  if (failed_ || keys_) return make_error(Errc::protocol, "the obfs handshake is over");
  if (bytes.size() != wanted()) return make_error(Errc::invalid_argument, "feed exactly wanted() bytes");
  append(reply_, bytes);
  if (reply_.size() == 2) {
    auto size = record_size(length_key(*secrets_, salt_, kServerToClient), 0, reply_);
    if (!size) {
      failed_ = true;
      return make_error(Errc::auth_failed, "the server's reply does not authenticate (length out of range)");
    }
    reply_target_ = 2 + *size;
    return {};
  }
  if (reply_.size() < reply_target_) return {};
  auto content =
      open_record(aead_key(*secrets_, salt_, kServerToClient, epoch_), 0, ByteView(reply_).subspan(2));
  if (!content) {
    failed_ = true;
    return make_error(Errc::auth_failed,
                      "the server's reply does not authenticate: check the endpoint's server key and PSK");
  }
  auto payload = noise_.read_message(*content);
  if (!payload.ok()) {
    failed_ = true;
    return make_error(Errc::auth_failed, "the server's Noise reply does not authenticate (" +
                                             payload.error().message + "): check the endpoint's server key");
  }
  auto keys = noise_.split();
  if (!keys.ok()) {
    failed_ = true;
    return std::move(keys).error();
  }
  keys_.emplace(std::move(*keys));
  return {};
}

Result<noise::TransportKeys> ClientHandshake::take_keys() {
  if (!keys_) return make_error(Errc::protocol, "the obfs handshake is not complete");
  auto keys = std::move(*keys_);
  keys_.reset();
  return keys;
}

}  // namespace samizdat::transport::obfs
