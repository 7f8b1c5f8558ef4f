#include "reach/dialer/endpoint_health.hpp"

#include <algorithm>
#include <tuple>

#include "crypto/secret.hpp"

namespace samizdat::reach {
namespace {

constexpr std::string_view kMagic = "SZH2";
constexpr std::string_view kMagicV1 = "SZH1";  // before suspects: decoded, never written

void put_string(Bytes& out, std::string_view s) {
  std::uint8_t length[2];
  put_u16_be(length, static_cast<std::uint16_t>(s.size()));
  append(out, ByteView(length, 2));
  append(out, as_bytes(s));
}
void put32(Bytes& out, std::uint32_t v) {
  std::uint8_t b[4];
  put_u32_be(b, v);
  append(out, ByteView(b, 4));
}
void put64(Bytes& out, std::int64_t v) {
  std::uint8_t b[8];
  put_u64_be(b, static_cast<std::uint64_t>(v));
  append(out, ByteView(b, 8));
}

class Reader {
 public:
  explicit Reader(ByteView bytes) : bytes_(bytes) {}
  Result<ByteView> take(std::size_t n) {
    if (bytes_.size() - pos_ < n) return make_error(Errc::malformed, "endpoint health record is truncated");
    ByteView out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Result<std::uint8_t> u8() { return SZ_TRY(take(1))[0]; }
  Result<std::uint16_t> u16() { return get_u16_be(SZ_TRY(take(2)).data()); }
  Result<std::uint32_t> u32() { return get_u32_be(SZ_TRY(take(4)).data()); }
  Result<std::int64_t> i64() { return static_cast<std::int64_t>(get_u64_be(SZ_TRY(take(8)).data())); }
  Result<std::string> string(std::size_t max) {
    auto length = SZ_TRY(u16());
    if (length > max) return make_error(Errc::malformed, "endpoint health record has an oversized field");
    auto bytes = SZ_TRY(take(length));
    return std::string(as_chars(bytes));
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  ByteView bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

const EndpointHealth* HealthBook::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void HealthBook::record_success(const transport::Endpoint& endpoint, std::uint32_t latency_ms,
                                std::int64_t now_ms) {
  if (entries_.size() >= kMaxHealthEntries && !entries_.contains(key(endpoint))) return;
  auto& e = entries_[key(endpoint)];
  ++e.successes;
  e.consecutive_failures = 0;
  e.last_success_ms = now_ms;
  e.next_attempt_ms = 0;
  e.suspect_since_ms = 0;
  e.suspect_class = FailureClass::none;
  latency_ms = std::max<std::uint32_t>(latency_ms, 1);
  // Smoothed like TCP's SRTT (7/8 old + 1/8 new) so one slow dial does not reorder everything.
  e.latency_ms = e.latency_ms == 0 ? latency_ms : (e.latency_ms * 7 + latency_ms) / 8;
}

void HealthBook::record_failure(const transport::Endpoint& endpoint, FailureClass failure, std::string reason,
                                std::int64_t now_ms, const BackoffPolicy& policy) {
  if (entries_.size() >= kMaxHealthEntries && !entries_.contains(key(endpoint))) return;
  auto& e = entries_[key(endpoint)];
  ++e.failures;
  ++e.consecutive_failures;
  e.last_failure_ms = now_ms;
  e.last_failure = failure;
  e.suspect_since_ms = 0;  // settled: it failed
  e.suspect_class = FailureClass::none;
  if (reason.size() > kMaxHealthReason) reason.resize(kMaxHealthReason);
  e.reason = std::move(reason);
  std::int64_t base = failure == FailureClass::throttled ? policy.throttled_base_ms : policy.base_ms;
  std::int64_t delay = base;
  for (std::uint32_t i = 1; i < e.consecutive_failures && delay < policy.max_ms; ++i) delay *= 2;
  delay = std::min(delay, policy.max_ms);
  // Jitter keeps many clients that lost the same endpoint at once from coming back in step.
  double spread = policy.jitter * (2.0 * crypto::random_uniform(1'000'001) / 1'000'000.0 - 1.0);
  delay = static_cast<std::int64_t>(static_cast<double>(delay) * (1.0 + spread));
  e.next_attempt_ms = now_ms + std::max<std::int64_t>(delay, 1);
}

void HealthBook::record_suspect(const transport::Endpoint& endpoint, FailureClass looks_like,
                                std::int64_t now_ms) {
  if (entries_.size() >= kMaxHealthEntries && !entries_.contains(key(endpoint))) return;
  auto& e = entries_[key(endpoint)];
  if (e.suspect_since_ms == 0) e.suspect_since_ms = std::max<std::int64_t>(now_ms, 1);
  e.suspect_class = looks_like;
}

void HealthBook::clear_backoff() {
  for (auto& [key, e] : entries_) e.next_attempt_ms = 0;
}

std::vector<std::size_t> HealthBook::rank(const std::vector<transport::Endpoint>& endpoints,
                                          std::int64_t now_ms) const {
  static const EndpointHealth kUnknown;
  auto sort_key = [&](std::size_t i) {
    const auto* h = find(key(endpoints[i]));
    const EndpointHealth& e = h ? *h : kUnknown;
    int history = e.successes > 0 && e.consecutive_failures == 0 ? 0 : (e.failures == 0 ? 1 : 2);
    std::uint32_t latency = e.latency_ms == 0 ? UINT32_MAX : e.latency_ms;
    // In backoff: the one whose backoff ends first comes first.
    std::int64_t backoff_end = e.in_backoff(now_ms) ? e.next_attempt_ms : 0;
    return std::make_tuple(backoff_end, e.consecutive_failures, e.suspect() ? 1 : 0, history, latency, i);
  };
  std::vector<std::size_t> order(endpoints.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return sort_key(a) < sort_key(b); });
  return order;
}

Bytes HealthBook::encode() const {
  Bytes out = to_bytes(kMagic);
  std::uint8_t count[2];
  put_u16_be(count, static_cast<std::uint16_t>(entries_.size()));
  append(out, ByteView(count, 2));
  for (const auto& [k, e] : entries_) {
    put_string(out, k);
    put32(out, e.successes);
    put32(out, e.failures);
    put32(out, e.consecutive_failures);
    put64(out, e.last_success_ms);
    put64(out, e.last_failure_ms);
    put64(out, e.next_attempt_ms);
    put32(out, e.latency_ms);
    out.push_back(static_cast<std::uint8_t>(e.last_failure));
    put_string(out, e.reason);
    put64(out, e.suspect_since_ms);
    out.push_back(static_cast<std::uint8_t>(e.suspect_class));
  }
  return out;
}

Result<HealthBook> HealthBook::decode(ByteView bytes) {
  Reader in(bytes);
  auto magic = SZ_TRY(in.take(kMagic.size()));
  const bool v1 = equal_constant_time(magic, as_bytes(kMagicV1));
  if (!v1 && !equal_constant_time(magic, as_bytes(kMagic))) {
    return make_error(Errc::malformed, "not an endpoint health record (bad magic)");
  }
  auto count = SZ_TRY(in.u16());
  if (count > kMaxHealthEntries)
    return make_error(Errc::malformed, "endpoint health record has too many entries");
  HealthBook book;
  for (std::uint16_t i = 0; i < count; ++i) {
    auto k = SZ_TRY(in.string(kMaxHealthKey));
    EndpointHealth e;
    e.successes = SZ_TRY(in.u32());
    e.failures = SZ_TRY(in.u32());
    e.consecutive_failures = SZ_TRY(in.u32());
    e.last_success_ms = SZ_TRY(in.i64());
    e.last_failure_ms = SZ_TRY(in.i64());
    e.next_attempt_ms = SZ_TRY(in.i64());
    e.latency_ms = SZ_TRY(in.u32());
    auto failure = SZ_TRY(in.u8());
    if (failure > static_cast<std::uint8_t>(FailureClass::other)) {
      return make_error(Errc::malformed, "endpoint health record has an unknown failure class");
    }
    e.last_failure = static_cast<FailureClass>(failure);
    e.reason = SZ_TRY(in.string(kMaxHealthReason));
    if (!v1) {
      e.suspect_since_ms = SZ_TRY(in.i64());
      auto suspect = SZ_TRY(in.u8());
      if (suspect > static_cast<std::uint8_t>(FailureClass::other)) {
        return make_error(Errc::malformed, "endpoint health record has an unknown failure class");
      }
      e.suspect_class = static_cast<FailureClass>(suspect);
    }
    if (k.empty()) return make_error(Errc::malformed, "endpoint health record has an empty key");
    // encode() writes the entries in key order: anything else is not a record we wrote
    // (and would not survive a round trip unchanged).
    if (!book.entries_.empty() && k <= book.entries_.rbegin()->first) {
      return make_error(Errc::malformed, "endpoint health record lists an endpoint twice or out of order");
    }
    book.entries_.emplace_hint(book.entries_.end(), std::move(k), std::move(e));
  }
  if (!in.done()) return make_error(Errc::malformed, "endpoint health record has trailing bytes");
  return book;
}

}  // namespace samizdat::reach
