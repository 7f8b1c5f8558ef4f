// Deadline: when a time limit passes, it closes what it guards (a ByteStream, a FrameStream,
// a socket that is still connecting), so every read and write pending on it fails at once;
// fired() then tells that timeout from the other errors, and the caller reports
// Errc::timeout. This is the watchdog of Asio's timeout example, as a guard object:
// destroying the Deadline disarms it, and a timer handler already queued then does nothing.
// Keep it on the stack of the coroutine that owns what it guards, which must outlive it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace samizdat::transport {

using DeadlineClock = std::chrono::steady_clock;

// The point in time `timeout` from now.
inline DeadlineClock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return DeadlineClock::now() + timeout;
}

class Deadline {
 public:
  // Runs `expire` on `executor` at `at` (at once if that has passed) unless destroyed first.
  Deadline(const asio::any_io_executor& executor, DeadlineClock::time_point at, std::function<void()> expire);
  // Closes `stream` (a ByteStream or FrameStream: anything with close() and get_executor()) at `at`.
  template <class Stream>
  Deadline(Stream& stream, DeadlineClock::time_point at)
      : Deadline(stream.get_executor(), at, [&stream] { stream.close(); }) {}
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Whether the time limit passed (and `expire` ran) while this guard was alive.
  [[nodiscard]] bool fired() const { return flags_->fired; }

 private:
  struct Flags {
    bool fired = false;
    bool disarmed = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<Flags> flags_;
};

}  // namespace samizdat::transport
