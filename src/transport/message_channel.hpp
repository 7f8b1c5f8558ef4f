// MessageChannel: whole messages (e.g. serialized protobufs) over a FrameStream, split
// into as many frames as needed. Each frame payload is
//   flags (1 byte: bit 0 = last fragment, other bits zero) || up to max_payload()-1 bytes
// so a message may exceed one frame while the codec keeps its small hard frame limit.
// Frames of two messages never interleave: send_message queues all of a message's
// frames at once.
#pragma once

#include <cstddef>

#include "transport/frame_stream.hpp"

namespace samizdat::transport {

inline constexpr std::uint8_t kLastFragment = 0x01;

class MessageChannel {
 public:
  // max_message: the largest message read_message accepts (reassembly memory bound).
  MessageChannel(FrameStream& stream, std::size_t max_message) : stream_(stream), max_message_(max_message) {}

  // The next whole message. Cancelling it (e.g. || with a timer) is safe: fragments read
  // so far are kept for the next call. Errc::limit_exceeded if it grows past max_message (the
  // caller should close: the stream is no longer in sync), Errc::malformed for bad flags,
  // or whatever read_frame fails with.
  asio::awaitable<Result<Bytes>> read_message();
  // Queues every fragment of `message` (see FrameStream::send_frame).
  Status send_message(ByteView message);
  // send_message, then waits until it has been written.
  asio::awaitable<Status> write_message(ByteView message);

  FrameStream& stream() { return stream_; }

 private:
  FrameStream& stream_;
  std::size_t max_message_;
  Bytes partial_;  // fragments of the message being read
};

}  // namespace samizdat::transport
