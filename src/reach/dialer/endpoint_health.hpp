// HealthBook: what this client learned about each endpoint — successes, failures and their
// class, dial latency, and the per-endpoint backoff — plus the ranking the dialer uses.
// Keyed by Endpoint::to_uri() (no secrets). Persisted by the client as one record
// (encode/decode below) in its account database.
//
// Record format (big-endian):
//   "SZH2" || count(u16) || entry*count
//   entry = key(len16 str) || successes(u32) || failures(u32) || consecutive(u32)
//           || last_success_ms(i64) || last_failure_ms(i64) || next_attempt_ms(i64)
//           || latency_ms(u32) || last_failure(u8 FailureClass) || reason(len16 str)
//           || suspect_since_ms(i64) || suspect_class(u8 FailureClass)
// "SZH1" records (written before suspects existed) are the same without the last two
// fields and still decode. decode is strict (lengths, class range, no trailing bytes)
// and bounded (kMaxHealthEntries).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reach/dialer/failure_class.hpp"
#include "transport/endpoint.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

inline constexpr std::size_t kMaxHealthEntries = 512;
inline constexpr std::size_t kMaxHealthKey = 1024;
inline constexpr std::size_t kMaxHealthReason = 512;

struct EndpointHealth {
  std::uint32_t successes = 0;
  std::uint32_t failures = 0;
  std::uint32_t consecutive_failures = 0;
  std::int64_t last_success_ms = 0;  // unix ms; 0 = never
  std::int64_t last_failure_ms = 0;
  std::int64_t next_attempt_ms = 0;  // backoff: not dialled before this (unix ms)
  std::uint32_t latency_ms = 0;      // smoothed dial latency of successes; 0 = unknown
  FailureClass last_failure = FailureClass::none;
  std::string reason;  // the last failure's message, for people
  // Suspect: an attempt got no answer for a while, and then the race was won elsewhere or
  // the command ended (Ctrl-C, --timeout, killed) before it could fail. Ranked below
  // endpoints that are not suspect, but no backoff: the next real failure or success of
  // the endpoint settles it. 0 = not suspect.
  std::int64_t suspect_since_ms = 0;
  FailureClass suspect_class = FailureClass::none;  // what it looked like (silent_drop so far)

  bool in_backoff(std::int64_t now_ms) const { return next_attempt_ms > now_ms; }
  bool suspect() const { return suspect_since_ms != 0; }
};

struct BackoffPolicy {
  std::int64_t base_ms = 5'000;             // after the first failure
  std::int64_t max_ms = 60LL * 60 * 1000;   // cap
  std::int64_t throttled_base_ms = 60'000;  // a throttled endpoint "works": retry it later
  double jitter = 0.25;                     // +-25 %
};

class HealthBook {
 public:
  static std::string key(const transport::Endpoint& endpoint) { return endpoint.to_uri(); }

  const EndpointHealth* find(const std::string& key) const;
  const std::map<std::string, EndpointHealth>& entries() const { return entries_; }

  void record_success(const transport::Endpoint& endpoint, std::uint32_t latency_ms, std::int64_t now_ms);
  // Exponential backoff with jitter: base * 2^(consecutive-1), capped.
  void record_failure(const transport::Endpoint& endpoint, FailureClass failure, std::string reason,
                      std::int64_t now_ms, const BackoffPolicy& policy = {});
  // An attempt that has not answered (yet): suspect, no failure counted, no backoff.
  // Success and failure both clear it.
  void record_suspect(const transport::Endpoint& endpoint, FailureClass looks_like, std::int64_t now_ms);
  // Forgets backoff (after `samizdat reach import`, or when the user asks to retry now).
  void clear_backoff();

  // Indices of `endpoints` best first: endpoints out of backoff before those in it; then
  // fewer consecutive failures; then not suspect before suspect; then known-good before
  // never-tried before failed-before; then lower latency; then the given order
  // (bootstrap/map preference).
  std::vector<std::size_t> rank(const std::vector<transport::Endpoint>& endpoints, std::int64_t now_ms) const;

  Bytes encode() const;
  static Result<HealthBook> decode(ByteView bytes);

 private:
  std::map<std::string, EndpointHealth> entries_;
};

}  // namespace samizdat::reach
