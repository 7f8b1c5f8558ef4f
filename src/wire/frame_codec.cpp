#include "wire/frame_codec.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <cstring>
#include <limits>

namespace samizdat::wire {

namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "SzFrame1";
constexpr std::uint64_t kAeadSubkeyId = 1;
constexpr std::uint64_t kMaskSubkeyId = 2;
// An emptied decoder buffer keeps at most this much capacity, so idle connections
// cost little while small-message traffic does not reallocate per read.
constexpr std::size_t kIdleBufferCapacity = 4096;

using Nonce = std::array<std::uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES>;

static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == kFrameTagSize);
static_assert(crypto_aead_chacha20poly1305_IETF_KEYBYTES == 32);
static_assert(crypto_stream_chacha20_ietf_NONCEBYTES == Nonce{}.size());
static_assert(kMaxFrameCiphertext <= std::numeric_limits<std::uint16_t>::max());
static_assert(kMaxFramePayload + kFrameOverhead <= kMaxFrameWireSize);

Nonce counter_nonce(std::uint64_t counter) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return nonce;
}

crypto::Secret<32> derive_subkey(const crypto::Secret<kFrameKeySize>& key, std::uint64_t id) {
  crypto::ensure_initialized();
  crypto::Secret<32> subkey;
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), id, kKdfContext, key.data());
  return subkey;
}

// Per-frame secret keystream: 2 bytes mask the length, 8 more feed the padding policy.
struct FrameKeystream {
  std::uint16_t length_mask;
  std::uint64_t padding_random;
};

FrameKeystream frame_keystream(const crypto::Secret<32>& mask_key, const Nonce& nonce) {
  std::array<std::uint8_t, 16> block{};
  crypto_stream_chacha20_ietf(block.data(), block.size(), nonce.data(), mask_key.data());
  FrameKeystream out{get_u16_be(block.data()), 0};
  std::memcpy(&out.padding_random, block.data() + 8, sizeof out.padding_random);
  sodium_memzero(block.data(), block.size());
  return out;
}

}  // namespace

// ---- FrameEncoder ---------------------------------------------------------------

FrameEncoder::FrameEncoder(const crypto::Secret<kFrameKeySize>& key, PaddingPolicy policy)
    : aead_key_(derive_subkey(key, kAeadSubkeyId)),
      mask_key_(derive_subkey(key, kMaskSubkeyId)),
      policy_(policy) {}

Status FrameEncoder::seal(FrameType type, ByteView payload, Bytes& out) {
  if (payload.size() > kMaxFramePayload) {
    return make_error(Errc::limit_exceeded,
                      fmt::format("frame payload of {} bytes exceeds the {}-byte maximum; "
                                  "split it into several frames",
                                  payload.size(), kMaxFramePayload));
  }
  const Nonce nonce = counter_nonce(counter_);
  const FrameKeystream keystream = frame_keystream(mask_key_, nonce);
  return seal_frame(type, payload, policy_.padding_for(payload.size(), keystream.padding_random), out);
}

Status FrameEncoder::seal_padded(FrameType type, ByteView payload, std::size_t padding, Bytes& out) {
  return seal_frame(type, payload, padding, out);
}

Status FrameEncoder::seal_chaff(Bytes& out) { return seal(FrameType::padding, {}, out); }

Status FrameEncoder::seal_chaff_of_size(std::size_t wire_size, Bytes& out) {
  if (wire_size < kMinFrameWireSize || wire_size > kMaxFrameWireSize) {
    return make_error(Errc::invalid_argument,
                      fmt::format("chaff frame of {} bytes requested; wire sizes range "
                                  "from {} to {}",
                                  wire_size, kMinFrameWireSize, kMaxFrameWireSize));
  }
  return seal_frame(FrameType::padding, {}, wire_size - kMinFrameWireSize, out);
}

Status FrameEncoder::seal_frame(FrameType type, ByteView payload, std::size_t padding, Bytes& out) {
  if (payload.size() > kMaxFramePayload) {
    return make_error(Errc::limit_exceeded,
                      fmt::format("frame payload of {} bytes exceeds the {}-byte maximum; "
                                  "split it into several frames",
                                  payload.size(), kMaxFramePayload));
  }
  if (padding > max_padding_for(payload.size())) {
    return make_error(Errc::limit_exceeded,
                      fmt::format("frame of {} payload + {} padding bytes exceeds the {}-byte wire maximum",
                                  payload.size(), padding, kMaxFrameWireSize));
  }
  if (counter_ == std::numeric_limits<std::uint64_t>::max()) {
    return make_error(Errc::limit_exceeded, "frame counter exhausted: the connection must be re-established");
  }
  const Nonce nonce = counter_nonce(counter_);
  const FrameKeystream keystream = frame_keystream(mask_key_, nonce);
  const std::size_t plaintext_size = kFrameHeaderSize + payload.size() + padding;
  const std::size_t ciphertext_size = plaintext_size + kFrameTagSize;

  const std::size_t offset = out.size();
  out.resize(offset + kFrameLengthSize + ciphertext_size);
  std::uint8_t* frame = out.data() + offset;
  put_u16_be(frame, static_cast<std::uint16_t>(ciphertext_size ^ keystream.length_mask));
  std::uint8_t* plaintext = frame + kFrameLengthSize;
  plaintext[0] = static_cast<std::uint8_t>(type);
  put_u16_be(plaintext + 1, static_cast<std::uint16_t>(payload.size()));
  if (!payload.empty()) std::memcpy(plaintext + kFrameHeaderSize, payload.data(), payload.size());
  std::memset(plaintext + kFrameHeaderSize + payload.size(), 0, padding);

  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, &written, plaintext, plaintext_size, frame,
                                            kFrameLengthSize, nullptr, nonce.data(), aead_key_.data());
  ++counter_;
  return {};
}

// ---- FrameDecoder ---------------------------------------------------------------

FrameDecoder::FrameDecoder(const crypto::Secret<kFrameKeySize>& key)
    : aead_key_(derive_subkey(key, kAeadSubkeyId)), mask_key_(derive_subkey(key, kMaskSubkeyId)) {}

void FrameDecoder::compact() {
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
  } else if (consumed_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
  }
  consumed_ = 0;
  if (buffer_.empty()) {
    if (buffer_.capacity() > kIdleBufferCapacity) Bytes().swap(buffer_);
  } else if (buffer_.capacity() > kIdleBufferCapacity && buffer_.capacity() / 4 > buffer_.size()) {
    buffer_.shrink_to_fit();  // a big read left a small partial frame behind
  }
}

void FrameDecoder::drop_prepared() {
  buffer_.resize(buffer_.size() - prepared_);
  prepared_ = 0;
}

void FrameDecoder::feed(ByteView bytes) {
  drop_prepared();
  if (failed_ || bytes.empty()) return;
  compact();
  append(buffer_, bytes);
}

MutableByteView FrameDecoder::prepare(std::size_t max) {
  drop_prepared();
  compact();
  const std::size_t old_size = buffer_.size();
  buffer_.resize(old_size + max);
  prepared_ = max;
  return {buffer_.data() + old_size, max};
}

void FrameDecoder::commit(std::size_t written) {
  if (written > prepared_) std::abort();  // programmer error: committed more than prepared
  buffer_.resize(buffer_.size() - prepared_ + written);
  prepared_ = 0;
  if (failed_) Bytes().swap(buffer_);
}

Error FrameDecoder::fail(Error error) {
  failed_ = error;
  // Nothing more will be read from this connection; keep only a region handed out by
  // prepare() (the caller may still be writing into it), commit() frees it.
  if (prepared_ == 0) Bytes().swap(buffer_);
  consumed_ = 0;
  pending_length_ = 0;
  return error;
}

std::optional<Frame> FrameDecoder::need_more() {
  // The caller is about to wait for the socket: give back what an idle connection does
  // not need. (Frames returned earlier become invalid here, as the contract says.)
  if (prepared_ == 0) compact();
  return std::nullopt;
}

Result<std::optional<Frame>> FrameDecoder::next() {
  for (;;) {
    if (failed_) return *failed_;
    const std::size_t available = buffer_.size() - prepared_ - consumed_;
    std::uint8_t* frame = buffer_.data() + consumed_;
    const Nonce nonce = counter_nonce(counter_);
    if (pending_length_ == 0) {
      if (available < kFrameLengthSize) return need_more();
      const std::size_t length = get_u16_be(frame) ^ frame_keystream(mask_key_, nonce).length_mask;
      if (length > kMaxFrameCiphertext || length < kMinFrameCiphertext) {
        return fail(
            make_error(Errc::malformed,
                       fmt::format("frame {} declares {} bytes, outside [{}, {}]: the stream is corrupted, "
                                   "out of order or not from a Samizdat peer; close the connection",
                                   counter_, length, kMinFrameCiphertext, kMaxFrameCiphertext)));
      }
      pending_length_ = length;
    }
    if (available < kFrameLengthSize + pending_length_) return need_more();

    std::uint8_t* ciphertext = frame + kFrameLengthSize;
    unsigned long long plaintext_size = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(ciphertext, &plaintext_size, nullptr, ciphertext,
                                                  pending_length_, frame, kFrameLengthSize, nonce.data(),
                                                  aead_key_.data()) != 0) {
      return fail(
          make_error(Errc::auth_failed,
                     fmt::format("frame {} did not authenticate: it was modified, replayed, reordered "
                                 "or a frame was dropped; close the connection",
                                 counter_)));
    }
    ++counter_;
    consumed_ += kFrameLengthSize + pending_length_;
    pending_length_ = 0;

    const std::uint8_t* plaintext = ciphertext;
    const auto type = static_cast<FrameType>(plaintext[0]);
    const std::size_t payload_size = get_u16_be(plaintext + 1);
    if (payload_size > plaintext_size - kFrameHeaderSize || payload_size > kMaxFramePayload) {
      return fail(
          make_error(Errc::malformed, fmt::format("frame {} declares a {}-byte payload in {} bytes: the "
                                                  "peer is broken; close the connection",
                                                  counter_ - 1, payload_size, plaintext_size)));
    }
    // Padding must be zero so no implementation can smuggle data (or state) through it.
    std::uint8_t padding_bits = 0;
    for (std::size_t i = kFrameHeaderSize + payload_size; i < plaintext_size; ++i)
      padding_bits |= plaintext[i];
    if (padding_bits != 0) {
      return fail(
          make_error(Errc::malformed,
                     fmt::format("frame {} has non-zero padding: the peer is broken; close the connection",
                                 counter_ - 1)));
    }
    switch (type) {
      case FrameType::padding:
        continue;  // chaff: consumed, never surfaced
      case FrameType::data:
      case FrameType::close:
        return std::optional<Frame>{Frame{type, ByteView{plaintext + kFrameHeaderSize, payload_size}}};
    }
    return fail(
        make_error(Errc::malformed,
                   fmt::format("frame {} has unknown type {}: the peer speaks a different protocol version; "
                               "close the connection",
                               counter_ - 1, static_cast<int>(plaintext[0]))));
  }
}

std::size_t FrameDecoder::bytes_needed() const {
  if (failed_) return 0;
  const std::size_t available = buffer_.size() - prepared_ - consumed_;
  const std::size_t wanted = kFrameLengthSize + pending_length_;  // pending 0: just the length prefix
  return available >= wanted ? 0 : wanted - available;
}

}  // namespace samizdat::wire
