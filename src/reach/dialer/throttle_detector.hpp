// ThrottleDetector: tells throttling (the TSPU pattern: goodput held at ~150 kbit/s while
// small packets still cross at the normal round-trip time) from congestion or a dead path.
// Fed with probe measurements on a live connection: small pings give the round-trip
// time, padded probes (a few tens of KB) give goodput. A connection is throttled when
// every probe over at least `window` measured goodput under `min_kbps` while the small
// pings' RTT stayed within `rtt_factor` x the best RTT seen (plus `rtt_slack`).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace samizdat::reach {

struct ThrottlePolicy {
  double min_kbps = 150;
  std::chrono::milliseconds window{10'000};
  double rtt_factor = 3;
  std::chrono::milliseconds rtt_slack{200};
};

class ThrottleDetector {
 public:
  explicit ThrottleDetector(ThrottlePolicy policy = {}) : policy_(policy) {}

  // A small ping's round trip at monotonic time `now_us`.
  void on_rtt(std::chrono::microseconds rtt, std::int64_t now_us);
  // A padded probe of `bytes` that took `elapsed` from send to answer, finished at `now_us`.
  void on_probe(std::size_t bytes, std::chrono::microseconds elapsed, std::int64_t now_us);

  // Goodput of the last probe in kbit/s (RTT subtracted); nullopt before the first.
  std::optional<double> last_kbps() const { return last_kbps_; }
  bool suspicious() const { return low_since_us_.has_value(); }  // probe more often
  bool throttled(std::int64_t now_us) const;

 private:
  bool rtt_normal() const;

  ThrottlePolicy policy_;
  std::optional<std::int64_t> best_rtt_us_;
  std::optional<std::int64_t> last_rtt_us_;
  std::optional<double> last_kbps_;
  std::optional<std::int64_t> low_since_us_;  // first of the run of low-goodput probes
};

}  // namespace samizdat::reach
