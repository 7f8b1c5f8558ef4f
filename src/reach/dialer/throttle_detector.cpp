#include "reach/dialer/throttle_detector.hpp"

#include <algorithm>

namespace samizdat::reach {

void ThrottleDetector::on_rtt(std::chrono::microseconds rtt, std::int64_t /*now_us*/) {
  std::int64_t us = std::max<std::int64_t>(rtt.count(), 1);
  last_rtt_us_ = us;
  best_rtt_us_ = best_rtt_us_ ? std::min(*best_rtt_us_, us) : us;
}

void ThrottleDetector::on_probe(std::size_t bytes, std::chrono::microseconds elapsed, std::int64_t now_us) {
  // The transfer time is what the probe took beyond one plain round trip.
  std::int64_t transfer_us = elapsed.count() - best_rtt_us_.value_or(0);
  transfer_us = std::max<std::int64_t>(transfer_us, 100);
  double kbps = static_cast<double>(bytes) * 8.0 / 1000.0 / (static_cast<double>(transfer_us) / 1e6);
  last_kbps_ = kbps;
  if (kbps >= policy_.min_kbps) {
    low_since_us_.reset();
  } else if (!low_since_us_) {
    // The run of slow probes starts when the first of them was sent.
    low_since_us_ = now_us - elapsed.count();
  }
}

bool ThrottleDetector::rtt_normal() const {
  if (!best_rtt_us_ || !last_rtt_us_) return false;  // no evidence the path is healthy otherwise
  auto limit = static_cast<std::int64_t>(static_cast<double>(*best_rtt_us_) * policy_.rtt_factor) +
               std::chrono::duration_cast<std::chrono::microseconds>(policy_.rtt_slack).count();
  return *last_rtt_us_ <= limit;
}

bool ThrottleDetector::throttled(std::int64_t now_us) const {
  if (!low_since_us_) return false;
  auto window_us = std::chrono::duration_cast<std::chrono::microseconds>(policy_.window).count();
  return now_us - *low_since_us_ >= window_us && rtt_normal();
}

}  // namespace samizdat::reach
