// Time sources. Wall-clock time is for timestamps people see and for expiry;
// monotonic time is for timeouts and latency.
#pragma once

#include <chrono>
#include <cstdint>

namespace samizdat {

inline std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t monotonic_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace samizdat
