// StreamDeadline: closes a ByteStream when a time limit passes, so every pending read and
// write on it fails (handshakes, HTTP heads). fired() tells a timeout from other errors.
// Keep it on the stack of the coroutine that owns the stream; it must not outlive it.
#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "transport/stream/byte_stream.hpp"

namespace samizdat::transport {

class StreamDeadline {
 public:
  StreamDeadline(ByteStream& stream, std::chrono::milliseconds timeout)
      : timer_(stream.get_executor()), flags_(std::make_shared<Flags>()) {
    timer_.expires_after(timeout);
    // The flags outlive the stream so a handler already queued when the owner finishes
    // never touches a destroyed stream.
    timer_.async_wait([stream = &stream, flags = flags_](std::error_code ec) {
      if (ec || flags->done) return;
      flags->fired = true;
      stream->close();
    });
  }
  ~StreamDeadline() {
    flags_->done = true;
    timer_.cancel();
  }
  StreamDeadline(const StreamDeadline&) = delete;
  StreamDeadline& operator=(const StreamDeadline&) = delete;

  [[nodiscard]] bool fired() const { return flags_->fired; }

 private:
  struct Flags {
    bool fired = false;
    bool done = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<Flags> flags_;
};

}  // namespace samizdat::transport
