// Endpoint health: backoff, ranking, the persisted record, failure classification.
#include <gtest/gtest.h>

#include "crypto/secret.hpp"
#include "reach/dialer/endpoint_health.hpp"
#include "reach/dialer/racing_dialer.hpp"

namespace samizdat::reach {
namespace {

transport::Endpoint endpoint(const std::string& host, std::uint16_t port) {
  transport::Endpoint e;
  e.host = host;
  e.port = port;
  return e;
}

TEST(DialerHealth, BackoffGrowsExponentiallyWithJitterAndSuccessClearsIt) {
  crypto::ensure_initialized();
  HealthBook book;
  auto a = endpoint("127.0.0.2", 443);
  BackoffPolicy policy;
  std::int64_t now = 1'000'000;
  std::int64_t expected = policy.base_ms;
  for (int i = 0; i < 5; ++i) {
    book.record_failure(a, FailureClass::silent_drop, "timed out", now, policy);
    const auto* h = book.find(HealthBook::key(a));
    ASSERT_NE(h, nullptr);
    EXPECT_GE(h->next_attempt_ms - now, static_cast<std::int64_t>(expected * 0.75) - 1);
    EXPECT_LE(h->next_attempt_ms - now, static_cast<std::int64_t>(expected * 1.25) + 1);
    expected *= 2;
  }
  EXPECT_EQ(book.find(HealthBook::key(a))->consecutive_failures, 5u);
  EXPECT_TRUE(book.find(HealthBook::key(a))->in_backoff(now + 1));
  book.record_success(a, 20, now);
  EXPECT_FALSE(book.find(HealthBook::key(a))->in_backoff(now + 1));
  EXPECT_EQ(book.find(HealthBook::key(a))->consecutive_failures, 0u);
}

TEST(DialerHealth, BackoffIsCapped) {
  HealthBook book;
  auto a = endpoint("127.0.0.2", 443);
  BackoffPolicy policy;
  for (int i = 0; i < 60; ++i) book.record_failure(a, FailureClass::refused, "refused", 0, policy);
  EXPECT_LE(book.find(HealthBook::key(a))->next_attempt_ms,
            static_cast<std::int64_t>(policy.max_ms * 1.25) + 1);
}

TEST(DialerHealth, RankPrefersWorkingThenUntriedThenFailedAndBackoffLast) {
  HealthBook book;
  std::vector<transport::Endpoint> known = {endpoint("10.0.0.1", 1), endpoint("10.0.0.2", 2),
                                            endpoint("10.0.0.3", 3), endpoint("10.0.0.4", 4)};
  std::int64_t now = 10'000'000;
  book.record_failure(known[0], FailureClass::refused, "refused", now - 1'000'000);  // failed, backoff over
  book.record_failure(known[1], FailureClass::silent_drop, "dropped", now);          // in backoff
  book.record_success(known[3], 30, now);
  auto order = book.rank(known, now);
  EXPECT_EQ(order, (std::vector<std::size_t>{3, 2, 0, 1}));
}

TEST(DialerHealth, PickCandidatesSkipsBackoffUnlessTheUserAsked) {
  HealthBook book;
  std::vector<transport::Endpoint> known = {endpoint("10.0.0.1", 1), endpoint("10.0.0.2", 2)};
  std::int64_t now = 10'000'000;
  book.record_failure(known[0], FailureClass::refused, "refused", now);
  RaceOptions options;
  auto picked = pick_candidates(known, book, now, options);
  ASSERT_EQ(picked.size(), 1u);
  EXPECT_EQ(picked[0].host, "10.0.0.2");
  book.record_failure(known[1], FailureClass::refused, "refused", now);
  EXPECT_TRUE(pick_candidates(known, book, now, options).empty());
  options.respect_backoff = false;
  EXPECT_EQ(pick_candidates(known, book, now, options).size(), 1u);
}

TEST(DialerHealth, RecordRoundTripsAndDamagedRecordsAreRefused) {
  HealthBook book;
  book.record_success(endpoint("127.0.0.1", 1), 12, 5);
  book.record_failure(endpoint("127.0.0.2", 2), FailureClass::throttled, "goodput 90 kbit/s", 7);
  Bytes bytes = book.encode();
  auto decoded = HealthBook::decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->encode(), bytes);
  const auto* h = decoded->find(HealthBook::key(endpoint("127.0.0.2", 2)));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->last_failure, FailureClass::throttled);
  EXPECT_EQ(h->reason, "goodput 90 kbit/s");

  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    auto truncated = HealthBook::decode(ByteView(bytes).first(cut));
    EXPECT_FALSE(truncated.ok()) << cut;
  }
  Bytes trailing = bytes;
  trailing.push_back(0);
  EXPECT_EQ(HealthBook::decode(trailing).error().code, Errc::malformed);
  // The entry's class byte sits right before its (empty) reason's length, then come the
  // suspect time (8 bytes) and the suspect class (1 byte).
  HealthBook one;
  one.record_failure(endpoint("h", 1), FailureClass::refused, "", 1);
  Bytes single = one.encode();
  Bytes bad_class = single;
  bad_class[bad_class.size() - 12] = 200;
  EXPECT_EQ(HealthBook::decode(bad_class).error().code, Errc::malformed);
  Bytes bad_suspect = single;
  bad_suspect.back() = 200;
  EXPECT_EQ(HealthBook::decode(bad_suspect).error().code, Errc::malformed);
}

TEST(DialerHealth, ASuspectRanksBelowTheOthersWithoutBackoffUntilSettled) {
  HealthBook book;
  std::vector<transport::Endpoint> known = {endpoint("10.0.0.1", 1), endpoint("10.0.0.2", 2),
                                            endpoint("10.0.0.3", 3)};
  std::int64_t now = 10'000'000;
  book.record_success(known[0], 10, now - 5'000);  // was the best, then went silent
  book.record_success(known[1], 40, now - 5'000);
  book.record_suspect(known[0], FailureClass::silent_drop, now);
  const auto* h = book.find(HealthBook::key(known[0]));
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->suspect());
  EXPECT_EQ(h->suspect_class, FailureClass::silent_drop);
  EXPECT_EQ(h->failures, 0u);
  EXPECT_FALSE(h->in_backoff(now));
  // Behind the working one and behind the never-tried one, but still dialable.
  EXPECT_EQ(book.rank(known, now), (std::vector<std::size_t>{1, 2, 0}));
  RaceOptions options;
  EXPECT_EQ(pick_candidates(known, book, now, options).size(), 3u);

  // A real failure settles it: counted, backed off, no longer "suspect".
  book.record_failure(known[0], FailureClass::silent_drop, "timed out", now + 1);
  EXPECT_FALSE(book.find(HealthBook::key(known[0]))->suspect());
  EXPECT_TRUE(book.find(HealthBook::key(known[0]))->in_backoff(now + 2));
  // So does a later success.
  book.record_suspect(known[1], FailureClass::silent_drop, now + 3);
  EXPECT_TRUE(book.find(HealthBook::key(known[1]))->suspect());
  book.record_success(known[1], 40, now + 4);
  EXPECT_FALSE(book.find(HealthBook::key(known[1]))->suspect());
  EXPECT_EQ(book.rank(known, now + 5).front(), 1u);
}

TEST(DialerHealth, SuspectsSurviveTheRecordAndOldRecordsStillLoad) {
  HealthBook book;
  book.record_success(endpoint("127.0.0.1", 1), 12, 5);
  book.record_suspect(endpoint("127.0.0.1", 1), FailureClass::silent_drop, 9);
  auto decoded = HealthBook::decode(book.encode());
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  const auto* h = decoded->find(HealthBook::key(endpoint("127.0.0.1", 1)));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->suspect_since_ms, 9);
  EXPECT_EQ(h->suspect_class, FailureClass::silent_drop);

  // An "SZH1" record (before suspects): the same entry without the two suspect fields.
  HealthBook plain;
  plain.record_success(endpoint("127.0.0.1", 1), 12, 5);
  Bytes v1 = plain.encode();
  v1.resize(v1.size() - 9);
  v1[3] = '1';
  auto old = HealthBook::decode(v1);
  ASSERT_TRUE(old.ok()) << old.error().describe();
  ASSERT_NE(old->find(HealthBook::key(endpoint("127.0.0.1", 1))), nullptr);
  EXPECT_EQ(old->find(HealthBook::key(endpoint("127.0.0.1", 1)))->successes, 1u);
  EXPECT_FALSE(old->find(HealthBook::key(endpoint("127.0.0.1", 1)))->suspect());
}

TEST(DialerHealth, TransportErrorsAreClassifiedByWhatTheCensorDid) {
  EXPECT_EQ(
      classify_dial_error(make_error(Errc::network, "cannot connect to tcp://1.2.3.4:5: Connection refused")),
      FailureClass::refused);
  EXPECT_EQ(classify_dial_error(make_error(Errc::timeout, "connecting to tcp://1.2.3.4:5 timed out")),
            FailureClass::silent_drop);
  EXPECT_EQ(
      classify_dial_error(make_error(Errc::timeout, "reading the handshake: the handshake took too long")),
      FailureClass::stall);
  EXPECT_EQ(classify_dial_error(make_error(
                Errc::network, "the server at tcp://x:1 closed the connection during the handshake")),
            FailureClass::handshake_rejected);
  EXPECT_EQ(
      classify_dial_error(make_error(Errc::network, "TLS handshake failed: tlsv1 alert protocol version")),
      FailureClass::tls_alert);
  EXPECT_EQ(classify_dial_error(make_error(Errc::auth_failed, "the server's reply does not authenticate")),
            FailureClass::bad_reply);
  // Timeouts by phase; an endpoint URI in the message (tls://, wss://) is not a TLS failure.
  EXPECT_EQ(classify_dial_error(make_error(Errc::timeout, "connecting to tls://1.2.3.4:443 timed out")),
            FailureClass::silent_drop);
  EXPECT_EQ(
      classify_dial_error(make_error(Errc::timeout, "the TLS handshake with tls://1.2.3.4:443 timed out")),
      FailureClass::stall);
  EXPECT_EQ(classify_dial_error(make_error(Errc::timeout, "the handshake with tls://1.2.3.4:443 timed out")),
            FailureClass::stall);
  EXPECT_EQ(classify_dial_error(
                make_error(Errc::timeout, "WebSocket upgrade at wss://cdn.example:443/p timed out")),
            FailureClass::stall);
  EXPECT_EQ(classify_dial_error(make_error(Errc::timeout, "resolving 'msg.example' took too long")),
            FailureClass::dns);
  EXPECT_EQ(classify_dial_error(
                make_error(Errc::network, "cannot connect to tls://1.2.3.4:443: Connection refused")),
            FailureClass::refused);
  EXPECT_EQ(
      classify_dial_error(make_error(Errc::network, "TLS with tls://1.2.3.4:443 failed: unexpected eof")),
      FailureClass::tls_alert);
  EXPECT_EQ(dial_phase_of(make_error(Errc::timeout, "connecting to wss://a.example:443/x timed out")),
            DialPhase::connect);
  for (int i = 0; i <= static_cast<int>(FailureClass::other); ++i) {
    auto c = static_cast<FailureClass>(i);
    EXPECT_EQ(failure_class_from_string(to_string(c)), c);
  }
}

}  // namespace
}  // namespace samizdat::reach
