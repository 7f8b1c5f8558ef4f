// Frame codec: seals every frame of a connection after the Noise handshake. What a
// censor sees for the rest of the connection is this codec's output, so it must look
// like uniformly random bytes whose lengths do not reveal the protocol.
//
// Keys. Each direction has its own 32-byte key (from Noise's split CipherStates).
// Two subkeys are derived with BLAKE2b (crypto_kdf_derive_from_key, context
// "SzFrame1"): id 1 = AEAD key, id 2 = length-mask key.
//
// Wire form of frame number n (n = 0, 1, 2, ... per direction):
//   masked_len (2 bytes)  ||  AEAD ciphertext (masked_len ^ mask(n) bytes)
//   mask(n)    = first 2 bytes of ChaCha20-IETF(mask key, nonce = n as 96-bit LE)
//   ciphertext = ChaCha20-Poly1305-IETF(AEAD key, nonce = n as 96-bit LE,
//                                       ad = masked_len, plaintext)
//   plaintext  = type (1 byte) || payload_len (2 bytes, big-endian) || payload || zeros
// The length is big-endian before masking. Every byte on the wire is either keystream-
// masked or AEAD ciphertext. Because nonce = frame counter, a reordered, replayed,
// dropped or modified frame fails; the decoder then stays failed (close the
// connection). Out-of-sequence frames unmask to a random length, so they are reported
// as Errc::auth_failed (length in range, tag fails) or Errc::malformed (length out of
// range) — the two are indistinguishable to the receiver and both are fatal.
//
// Limits: payload <= kMaxFramePayload (16 KiB); whole frame on the wire
// <= kMaxFrameWireSize (17 KiB), i.e. payload + padding + kFrameOverhead <= 17 KiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"
#include "wire/padding_policy.hpp"

namespace samizdat::wire {

inline constexpr std::size_t kFrameKeySize = 32;
inline constexpr std::size_t kFrameLengthSize = 2;  // masked length prefix
inline constexpr std::size_t kFrameHeaderSize = 3;  // type + payload length, inside the AEAD
inline constexpr std::size_t kFrameTagSize = 16;    // Poly1305
inline constexpr std::size_t kFrameOverhead = kFrameLengthSize + kFrameHeaderSize + kFrameTagSize;  // 21
inline constexpr std::size_t kMaxFramePayload = 16 * 1024;
inline constexpr std::size_t kMaxFrameWireSize = 17 * 1024;
inline constexpr std::size_t kMinFrameWireSize = kFrameOverhead;  // empty payload, no padding
inline constexpr std::size_t kMaxFrameCiphertext = kMaxFrameWireSize - kFrameLengthSize;
inline constexpr std::size_t kMinFrameCiphertext = kFrameHeaderSize + kFrameTagSize;

// Most padding a frame with `payload_size` bytes can carry.
constexpr std::size_t max_padding_for(std::size_t payload_size) {
  return payload_size > kMaxFrameWireSize - kFrameOverhead
             ? 0
             : kMaxFrameWireSize - kFrameOverhead - payload_size;
}

enum class FrameType : std::uint8_t {
  data = 1,     // payload for the layer above
  padding = 2,  // chaff: the receiver discards it (next() never returns it)
  close = 3,    // orderly close; the payload may carry a short reason
};

// A decoded frame. `payload` points into the decoder's buffer and stays valid until
// the next call on that decoder (copy it to keep it longer).
struct Frame {
  FrameType type = FrameType::data;
  ByteView payload;
};

// Seals frames for one direction. Not thread-safe; one per connection.
class FrameEncoder {
 public:
  explicit FrameEncoder(const crypto::Secret<kFrameKeySize>& key, PaddingPolicy policy = {});

  // Appends one sealed frame to `out`, padded according to the policy. `payload` must
  // not point into `out`. Errc::limit_exceeded if payload > kMaxFramePayload; a refused
  // frame leaves `out` and the frame counter untouched.
  Status seal(FrameType type, ByteView payload, Bytes& out);
  Status seal_data(ByteView payload, Bytes& out) { return seal(FrameType::data, payload, out); }
  // Appends one frame with exactly `padding` zero bytes of padding (ignores the policy).
  // Errc::limit_exceeded if the frame would exceed kMaxFrameWireSize.
  Status seal_padded(FrameType type, ByteView payload, std::size_t padding, Bytes& out);
  // Appends a padding-only (chaff) frame whose size follows the policy.
  Status seal_chaff(Bytes& out);
  // Appends a padding-only frame of exactly `wire_size` bytes on the wire, in
  // [kMinFrameWireSize, kMaxFrameWireSize] (else Errc::invalid_argument).
  Status seal_chaff_of_size(std::size_t wire_size, Bytes& out);

  // Wire size of the next frame sealed with this padding (for shaping decisions).
  static constexpr std::size_t wire_size(std::size_t payload_size, std::size_t padding) {
    return kFrameOverhead + payload_size + padding;
  }

  [[nodiscard]] const PaddingPolicy& policy() const { return policy_; }
  void set_policy(const PaddingPolicy& policy) { policy_ = policy; }
  [[nodiscard]] std::uint64_t frames_sealed() const { return counter_; }

 private:
  Status seal_frame(FrameType type, ByteView payload, std::size_t padding, Bytes& out);

  crypto::Secret<32> aead_key_;
  crypto::Secret<32> mask_key_;
  std::uint64_t counter_ = 0;
  PaddingPolicy policy_;
};

// Opens frames for one direction from a byte stream. Not thread-safe.
// Memory: one buffer that holds what was fed but not yet consumed (at most one partial
// frame plus one read if the caller drains next() after each feed). When next() runs
// out of complete frames it compacts the buffer, frees it if it is empty and larger than
// 4 KiB, and shrinks it if a big read left only a small partial frame behind: an idle
// connection holds at most max(4 KiB, the partial frame).
class FrameDecoder {
 public:
  explicit FrameDecoder(const crypto::Secret<kFrameKeySize>& key);

  // Buffers bytes from the connection. Ignored once the decoder has failed.
  void feed(ByteView bytes);
  // Zero-copy alternative to feed(): write up to `max` bytes into the returned span
  // (e.g. with async_read_some), then commit(n) with the number actually written.
  // Size `max` modestly (e.g. max(bytes_needed(), 4096)): the span is decoder memory.
  // The span is valid until commit(), feed() or the next prepare().
  MutableByteView prepare(std::size_t max);
  void commit(std::size_t written);

  // The next data or close frame, std::nullopt if more bytes are needed. Padding
  // frames are consumed silently. Errors: Errc::malformed (length out of range,
  // unknown type, bad inner length), Errc::auth_failed (tag did not verify); after an
  // error every later call returns the same error.
  Result<std::optional<Frame>> next();

  // Bytes still needed to complete the frame being read (at least 1 when next()
  // returned nullopt); 0 if a full frame is buffered or the decoder failed.
  [[nodiscard]] std::size_t bytes_needed() const;
  [[nodiscard]] bool failed() const { return failed_.has_value(); }
  [[nodiscard]] std::uint64_t frames_opened() const { return counter_; }
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - prepared_ - consumed_; }
  // Heap bytes held by this decoder (for memory-per-connection checks).
  [[nodiscard]] std::size_t buffer_capacity() const { return buffer_.capacity(); }

 private:
  void compact();
  void drop_prepared();
  std::optional<Frame> need_more();
  Error fail(Error error);

  crypto::Secret<32> aead_key_;
  crypto::Secret<32> mask_key_;
  std::uint64_t counter_ = 0;
  Bytes buffer_;
  std::size_t consumed_ = 0;        // bytes at the front of buffer_ already returned
  std::size_t prepared_ = 0;        // bytes at the back of buffer_ handed out by prepare(), not committed
  std::size_t pending_length_ = 0;  // unmasked ciphertext length of the frame in progress, 0 = unread
  std::optional<Error> failed_;
};

}  // namespace samizdat::wire
