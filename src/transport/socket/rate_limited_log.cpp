#include "transport/socket/rate_limited_log.hpp"

#include "util/clock.hpp"
#include "util/log.hpp"

namespace samizdat::transport {

void RateLimitedLog::warn(std::string_view line) {
  auto now = monotonic_micros();
  auto allowed = next_allowed_us_.load(std::memory_order_relaxed);
  if (now < allowed || !next_allowed_us_.compare_exchange_strong(allowed, now + interval_.count() * 1000)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto held_back = suppressed_.exchange(0, std::memory_order_relaxed);
  if (held_back == 0) {
    spdlog::warn("{}", line);
  } else {
    spdlog::warn("{} ({} similar lines suppressed)", line, held_back);
  }
}

}  // namespace samizdat::transport
