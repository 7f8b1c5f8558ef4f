// TokenBucket: per-connection request rate limit (burst `capacity`, refilled at `rate`
// tokens per second). Not thread-safe: one per session, on the session's thread.
#pragma once

#include <algorithm>
#include <cstdint>

#include "util/clock.hpp"

namespace samizdat::server {

class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double capacity)
      : rate_per_us_(rate_per_second / 1e6),
        capacity_(capacity),
        tokens_(capacity),
        last_us_(monotonic_micros()) {}

  // Takes one token if there is one.
  bool try_take() {
    auto now = monotonic_micros();
    tokens_ = std::min(capacity_, tokens_ + static_cast<double>(now - last_us_) * rate_per_us_);
    last_us_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_per_us_;
  double capacity_;
  double tokens_;
  std::int64_t last_us_;
};

}  // namespace samizdat::server
