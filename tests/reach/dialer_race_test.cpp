// The racing dialer against real sockets on 127.0.0.1: a refused port, a port that accepts
// and then says nothing (stall), a port whose full accept queue drops SYNs (silent drop),
// and a real tcp listener.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <system_error>
#include <thread>

#include "crypto/secret.hpp"
#include "reach/dialer/racing_dialer.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::reach {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

// A real listener (its own thread) whose authenticated streams are simply kept.
class Server {
 public:
  Server() {
    crypto::ensure_initialized();
    key_ = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    transport::Endpoint bind;
    bind.host = "127.0.0.1";
    crypto::fill_random(bind.psk);
    transport::ListenOptions options;
    options.server_static = key_;
    auto listener = transport::listen(io_.get_executor(), bind, std::move(options));
    if (!listener.ok()) throw std::runtime_error(listener.error().describe());
    listener_ = std::move(*listener);
    listener_->start([this](std::unique_ptr<transport::FrameStream> s) { streams_.push_back(std::move(s)); });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    listener_->close();
    work_.reset();
    asio::post(io_, [this] { streams_.clear(); });
    io_.stop();
    thread_.join();
  }
  const transport::Endpoint& endpoint() const { return listener_->local_endpoint(); }
  std::uint64_t accepted() const { return listener_->stats().accepted.load(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<crypto::X25519KeyPair> key_;
  std::unique_ptr<transport::Listener> listener_;
  std::vector<std::unique_ptr<transport::FrameStream>> streams_;
  std::thread thread_;
};

// A port nothing listens on (bound, then closed): connections are refused.
transport::Endpoint refused_endpoint(const transport::Endpoint& like) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto e = like;
  e.port = acceptor.local_endpoint().port();
  return e;
}

// Accepts at the kernel (listen backlog) but never answers the handshake.
class Silent {
 public:
  Silent() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  transport::Endpoint endpoint(const transport::Endpoint& like) const {
    auto e = like;
    e.port = acceptor_.local_endpoint().port();
    return e;
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
};

// A listener whose accept queue is full (backlog 0, one connection parked in it): the
// kernel drops further SYNs without an answer, as a censor's silent drop does.
class SynDropper {
 public:
  SynDropper() : acceptor_(io_), parked_(io_) {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen(0);
    parked_.connect(acceptor_.local_endpoint());
  }
  transport::Endpoint endpoint(const transport::Endpoint& like, const std::string& scheme) const {
    auto e = like;
    e.scheme = scheme;
    e.port = acceptor_.local_endpoint().port();
    return e;
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::socket parked_;
};

struct Outcome {
  bool finished = false;  // race_dial returned (false: the command was stopped while it waited)
  Result<RaceWinner> result = make_error(Errc::internal, "not run");
  std::vector<AttemptReport> reports;
  std::chrono::milliseconds took{0};
};

// stop_after > 0: the io_context is stopped then, as when a command is interrupted mid-race.
Outcome race(std::vector<transport::Endpoint> candidates, RaceOptions options, bool wait_for_losers = false,
             std::chrono::milliseconds stop_after = std::chrono::milliseconds(0)) {
  asio::io_context io;
  auto reports = std::make_shared<std::vector<AttemptReport>>();
  Outcome out;
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::any_io_executor executor = io.get_executor();
        transport::DialOptions dial;
        AttemptObserver observer = [reports](const AttemptReport& r) { reports->push_back(r); };
        out.result = co_await race_dial(executor, candidates, dial, options, observer);
        out.finished = true;
        out.took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        if (out.result.ok()) out.result->stream->close();
        if (!wait_for_losers) io.stop();
      },
      samizdat::log_escape("dialer_race_test: a spawned coroutine"));
  asio::steady_timer stop(io);
  if (stop_after.count() > 0) {
    stop.expires_after(stop_after);
    stop.async_wait([&io](std::error_code ec) {
      if (!ec) io.stop();
    });
  }
  io.run();
  out.reports = *reports;
  // The winner's stream holds timers of `io`: it must go before `io` does (ASan/UBSan
  // caught the destructor touching the destroyed io_context's timer service).
  if (out.result.ok()) out.result->stream.reset();
  return out;
}

TEST(DialerRace, FirstAuthenticatedStreamWinsAndFailuresAreClassified) {
  Server server;
  auto refused = refused_endpoint(server.endpoint());
  RaceOptions options;
  options.stagger = 100ms;
  auto out = race({refused, server.endpoint()}, options, true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().describe();
  EXPECT_EQ(out.result->endpoint.port, server.endpoint().port);
  ASSERT_EQ(out.reports.size(), 2u);
  bool saw_refused = false;
  for (const auto& r : out.reports) {
    if (r.endpoint.port == refused.port) {
      EXPECT_FALSE(r.ok);
      EXPECT_EQ(r.failure, FailureClass::refused) << r.reason;
      saw_refused = true;
    }
  }
  EXPECT_TRUE(saw_refused);
}

TEST(DialerRace, ASilentEndpointDoesNotHoldUpTheNextOne) {
  Server server;
  Silent silent;
  RaceOptions options;
  options.stagger = 200ms;
  options.attempt_timeout = 5s;
  auto out = race({silent.endpoint(server.endpoint()), server.endpoint()}, options);
  ASSERT_TRUE(out.result.ok()) << out.result.error().describe();
  EXPECT_EQ(out.result->endpoint.port, server.endpoint().port);
  // Won after the stagger, long before the silent endpoint's timeout.
  EXPECT_GE(out.took, 150ms);
  EXPECT_LT(out.took, 4s);
}

TEST(DialerRace, LosersAreCancelledSoTheCommandCanExitAtOnce) {
  Server server;
  Silent silent;
  RaceOptions options;
  options.stagger = 100ms;
  options.attempt_timeout = 5s;
  auto start = std::chrono::steady_clock::now();
  // wait_for_losers: io.run() returns only when no attempt is left, as in a one-shot CLI.
  auto out = race({silent.endpoint(server.endpoint()), server.endpoint()}, options, true);
  auto all_done = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(out.result.ok()) << out.result.error().describe();
  EXPECT_EQ(out.result->endpoint.port, server.endpoint().port);
  EXPECT_LT(out.took, 3s);
  // The silent attempt would otherwise keep the io_context busy for its 5 s timeout.
  EXPECT_LT(all_done, 3s);
  // The cancelled loser had waited longer than the winner needed: suspect, not a failure.
  ASSERT_EQ(out.reports.size(), 2u);
  std::size_t oks = 0, suspects = 0;
  for (const auto& r : out.reports) {
    if (r.ok) {
      ++oks;
      EXPECT_EQ(r.endpoint.port, server.endpoint().port);
    } else {
      EXPECT_TRUE(r.suspect) << r.reason;
      ++suspects;
    }
  }
  EXPECT_EQ(oks, 1u);
  EXPECT_EQ(suspects, 1u);
}

TEST(DialerRace, ABlockedLoserLosesItsRankSoTheNextCommandSkipsTheStagger) {
  Server server;
  Silent silent;  // the endpoint that used to work, now silently blocked
  RaceOptions options;
  options.stagger = 250ms;
  options.attempt_timeout = 5s;
  HealthBook book;
  const auto blocked = silent.endpoint(server.endpoint());
  std::vector<transport::Endpoint> known = {blocked, server.endpoint()};
  book.record_success(blocked, 5, unix_millis() - 10'000);
  ASSERT_EQ(pick_candidates(known, book, unix_millis(), options).front().port, blocked.port);

  auto first = race(pick_candidates(known, book, unix_millis(), options), options, true);
  ASSERT_TRUE(first.result.ok()) << first.result.error().describe();
  EXPECT_GE(first.took, 200ms);  // paid the stagger once
  for (const auto& r : first.reports) {
    if (r.suspect) {
      book.record_suspect(r.endpoint, r.failure, unix_millis());
    } else if (r.ok) {
      book.record_success(r.endpoint, static_cast<std::uint32_t>(r.elapsed.count()), unix_millis());
    }
  }
  const auto* h = book.find(HealthBook::key(blocked));
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->suspect());
  EXPECT_EQ(h->failures, 0u);
  EXPECT_FALSE(h->in_backoff(unix_millis()));

  // The next command dials the working endpoint first and wins before any stagger.
  auto next = pick_candidates(known, book, unix_millis(), options);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next.front().port, server.endpoint().port);
  auto second = race(next, options, true);
  ASSERT_TRUE(second.result.ok()) << second.result.error().describe();
  EXPECT_EQ(second.result->endpoint.port, server.endpoint().port);
  EXPECT_LT(second.took, 200ms);
}

TEST(DialerRace, AnAttemptStillHangingIsReportedSuspectBeforeTheCommandIsStopped) {
  Server server;
  SynDropper dropper;
  RaceOptions options;
  options.attempt_timeout = 5s;
  options.suspect_after = 200ms;
  // The command is stopped at 600 ms (Ctrl-C, a deadline): the attempt never ended.
  auto out = race({dropper.endpoint(server.endpoint(), "tcp")}, options, false, 600ms);
  ASSERT_EQ(out.reports.size(), 1u);
  EXPECT_TRUE(out.reports[0].suspect);
  EXPECT_FALSE(out.reports[0].ok);
  EXPECT_EQ(out.reports[0].failure, FailureClass::silent_drop);
  EXPECT_GE(out.reports[0].elapsed, 150ms);
}

TEST(DialerRace, TimeoutsAreClassifiedByThePhaseTheyHappenedIn) {
  Server server;
  SynDropper dropper;
  Silent silent;
  RaceOptions options;
  options.attempt_timeout = 600ms;
  options.suspect_after = 5s;
  // No SYN-ACK: the TCP connect times out, for tls exactly as for tcp.
  for (const char* scheme : {"tls", "tcp", "obfs"}) {
    auto out = race({dropper.endpoint(server.endpoint(), scheme)}, options, true);
    ASSERT_FALSE(out.result.ok()) << scheme;
    ASSERT_EQ(out.reports.size(), 1u) << scheme;
    EXPECT_EQ(out.reports[0].failure, FailureClass::silent_drop) << scheme << ": " << out.reports[0].reason;
    EXPECT_EQ(out.result.error().code, Errc::timeout) << scheme;
  }
  // Connected, then not a byte back (the TLS handshake waits for a ServerHello): stall.
  auto tls_endpoint = silent.endpoint(server.endpoint());
  tls_endpoint.scheme = "tls";
  auto out = race({tls_endpoint}, options, true);
  ASSERT_EQ(out.reports.size(), 1u);
  EXPECT_EQ(out.reports[0].failure, FailureClass::stall) << out.reports[0].reason;
}

TEST(DialerRace, AStallIsClassifiedAsStall) {
  Server server;
  Silent silent;
  RaceOptions options;
  options.attempt_timeout = 300ms;
  auto out = race({silent.endpoint(server.endpoint())}, options);
  ASSERT_FALSE(out.result.ok());
  ASSERT_EQ(out.reports.size(), 1u);
  EXPECT_EQ(out.reports[0].failure, FailureClass::stall) << out.reports[0].reason;
}

TEST(DialerRace, TriesAtMostMaxAttemptsEndpoints) {
  Server server;
  std::vector<transport::Endpoint> candidates;
  for (int i = 0; i < 3; ++i) candidates.push_back(refused_endpoint(server.endpoint()));
  candidates.push_back(server.endpoint());
  RaceOptions options;
  options.max_attempts = 3;
  auto out = race(candidates, options, true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().code, Errc::network);
  EXPECT_NE(out.result.error().message.find("refused"), std::string::npos) << out.result.error().message;
  EXPECT_EQ(out.reports.size(), 3u);
  EXPECT_EQ(server.accepted(), 0u);  // the fourth endpoint was never revealed by a dial
}

// A transport whose dial throws operation_aborted, as any awaited asio operation does once
// the coroutine was cancelled by something other than the race (asio's throw_if_cancelled).
class AbortingTransport final : public transport::Transport {
 public:
  static constexpr std::string_view kScheme = "aborts-test";
  std::string_view scheme() const override { return kScheme; }
  asio::awaitable<Result<std::unique_ptr<transport::FrameStream>>> dial(asio::any_io_executor,
                                                                        const transport::Endpoint&,
                                                                        transport::DialOptions) override {
    throw std::system_error(asio::error::operation_aborted);
    co_return make_error(Errc::internal, "unreachable");
  }
  Result<std::unique_ptr<transport::Listener>> listen(asio::any_io_executor, const transport::Endpoint&,
                                                      transport::ListenOptions) override {
    return make_error(Errc::invalid_argument, "this test transport only dials");
  }
};

transport::Endpoint aborting_endpoint(const transport::Endpoint& like) {
  static const bool registered = [] {
    transport::TransportRegistry::default_registry().add(std::make_shared<AbortingTransport>());
    return true;
  }();
  (void)registered;
  auto e = like;
  e.scheme = std::string(AbortingTransport::kScheme);
  return e;
}

TEST(DialerRace, AnAttemptCancelledFromElsewhereEndsAsAFailureInsteadOfHangingTheRace) {
  Server server;
  RaceOptions options;
  options.stagger = 50ms;
  options.attempt_timeout = 300ms;
  // Stopped after 3 s: a race still waiting by then would have waited forever.
  auto out =
      race({aborting_endpoint(server.endpoint()), refused_endpoint(server.endpoint())}, options, false, 3s);
  ASSERT_TRUE(out.finished) << "the race never ended";
  ASSERT_FALSE(out.result.ok());
  EXPECT_LT(out.took, 2s);
  ASSERT_EQ(out.reports.size(), 2u);
  for (const auto& r : out.reports) {
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.failure, FailureClass::none) << r.reason;
  }
}

TEST(DialerRace, AnAttemptCancelledFromElsewhereDoesNotStopAnotherFromWinning) {
  Server server;
  RaceOptions options;
  options.stagger = 50ms;
  auto out = race({aborting_endpoint(server.endpoint()), server.endpoint()}, options);
  ASSERT_TRUE(out.finished);
  ASSERT_TRUE(out.result.ok()) << out.result.error().describe();
  EXPECT_EQ(out.result->endpoint.port, server.endpoint().port);
}

TEST(DialerRace, NothingToDialIsUnavailable) {
  auto out = race({}, RaceOptions{});
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace samizdat::reach
