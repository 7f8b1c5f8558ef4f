// ReplayCache: remembers the first handshake messages a listener accepted recently so a
// recorded one replayed by a prober is treated like junk instead of being answered.
// Two generations of 8-byte keyed digests: memory is bounded by capacity, and entries
// live between one and two rotation periods.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_set>

#include "util/bytes.hpp"

namespace samizdat::transport {

class ReplayCache {
 public:
  explicit ReplayCache(std::size_t capacity_per_generation = 200'000,
                       std::chrono::seconds rotation = std::chrono::seconds(600));
  // True if `message` was seen before (then it is a replay); otherwise remembers it.
  // Thread-safe.
  bool check_and_insert(ByteView message);

 private:
  std::uint64_t digest(ByteView message) const;
  void rotate_if_due_locked();

  std::mutex mutex_;
  std::array<std::uint8_t, 16> key_{};
  std::size_t capacity_;
  std::chrono::steady_clock::duration rotation_;
  std::chrono::steady_clock::time_point rotated_at_;
  std::unordered_set<std::uint64_t> current_;
  std::unordered_set<std::uint64_t> previous_;
};

}  // namespace samizdat::transport
