// WebSocket framing (RFC 6455 section 5), without sockets so it can be fuzzed.
// The wss transport carries its bytes in binary messages; this codec writes frames
// (client frames masked with a fresh random key, section 5.3) and reads them back into
// whole messages: fragments are joined, ping/pong/close are returned as they arrive
// (also between the fragments of a message), and every protocol violation or oversized
// frame/message is an error that carries the close code to send (section 7.4.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close status codes used here (RFC 6455 section 7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseUnsupportedData = 1003;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // never sent: "the close frame had no code"
inline constexpr std::uint16_t kCloseTooBig = 1009;

// Control frames carry at most this much payload (section 5.5).
inline constexpr std::size_t kMaxControlPayload = 125;
// Largest frame header: 2 bytes + 8-byte length + 4-byte mask key.
inline constexpr std::size_t kMaxFrameHeader = 14;

// Size of the header of a frame with `payload_size` bytes.
constexpr std::size_t frame_header_size(std::size_t payload_size, bool masked) {
  return 2 + (payload_size < 126 ? 0 : payload_size <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
}

// Appends one frame to `out`. With `mask_key` the payload is masked (clients must mask
// every frame, servers must not). `payload` must not point into `out`.
void append_frame(Bytes& out, Opcode opcode, bool fin, ByteView payload,
                  const std::uint8_t* mask_key /* 4 bytes or null */);
// append_frame with a fresh random mask key when `masked` (the client side).
void append_frame(Bytes& out, Opcode opcode, bool fin, ByteView payload, bool masked);

// The payload of a close frame: u16be code || UTF-8 reason (reason cut to fit 125 bytes).
Bytes close_payload(std::uint16_t code, std::string_view reason);
struct CloseReason {
  std::uint16_t code = kCloseNoStatus;
  std::string reason;
};
// Reads a received close payload (empty = kCloseNoStatus). Errc::malformed for a 1-byte
// payload or a code a peer may not send.
Result<CloseReason> parse_close_payload(ByteView payload);

// A complete data message (text/binary, fragments joined) or one control frame.
// `payload` points into the decoder and stays valid until the next call on it.
struct Message {
  Opcode opcode = Opcode::binary;
  ByteView payload;
};

// Reads frames from one direction of a connection. Not thread-safe.
// Memory: the bytes fed and not yet consumed, plus the fragments of an unfinished
// message; emptied buffers over 4 KiB are freed, so an idle connection holds little.
class MessageDecoder {
 public:
  // `expect_masked`: true on the server (client frames must be masked, section 5.1),
  // false on the client (server frames must not be). `max_message`: largest data
  // message (all fragments together) accepted.
  MessageDecoder(bool expect_masked, std::size_t max_message);

  // Buffers bytes from the connection (ignored once the decoder has failed).
  void feed(ByteView bytes);
  // Zero-copy alternative to feed(): write up to `max` bytes into the span, then commit(n).
  MutableByteView prepare(std::size_t max);
  void commit(std::size_t written);

  // The next message or control frame; std::nullopt when more bytes are needed. Errors:
  // Errc::protocol (bad framing: reserved bits/opcodes, wrong masking, fragmented or
  // oversized control frame, continuation out of place) and Errc::limit_exceeded (a
  // frame or message larger than max_message); close_code() then says what to send,
  // and every later call returns the same error.
  Result<std::optional<Message>> next();

  // The close code that answers the error next() returned (0 while not failed).
  [[nodiscard]] std::uint16_t close_code() const { return close_code_; }
  [[nodiscard]] bool failed() const { return failed_.has_value(); }
  // At least how many more bytes the frame being read needs (0 if a frame is complete).
  [[nodiscard]] std::size_t bytes_needed() const;
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - prepared_ - consumed_; }
  [[nodiscard]] std::size_t buffer_capacity() const { return buffer_.capacity() + fragments_.capacity(); }

 private:
  Error fail(std::uint16_t close_code, Errc errc, std::string message);
  void compact();

  bool expect_masked_;
  std::size_t max_message_;
  Bytes buffer_;
  std::size_t consumed_ = 0;
  std::size_t prepared_ = 0;
  std::size_t needed_ = 2;  // bytes the next frame needs at least (header or whole frame)
  // A fragmented data message in progress.
  bool in_message_ = false;
  Opcode message_opcode_ = Opcode::binary;
  Bytes fragments_;
  bool release_fragments_ = false;  // the last message came from fragments_: free it next call
  std::optional<Error> failed_;
  std::uint16_t close_code_ = 0;
};

}  // namespace samizdat::transport::ws
