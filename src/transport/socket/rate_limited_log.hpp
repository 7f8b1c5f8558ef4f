// RateLimitedLog: at most one log line per interval for a noisy event (rejected
// connections), with a count of the lines it held back. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace samizdat::transport {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}
  // Logs at warn level, or counts the event as suppressed.
  void warn(std::string_view line);

 private:
  std::chrono::milliseconds interval_;
  std::atomic<std::int64_t> next_allowed_us_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace samizdat::transport
