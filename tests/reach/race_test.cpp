// The race helper (reach/dialer/race.hpp) with attempts made of real asio timers.
#include "reach/dialer/race.hpp"

#include <gtest/gtest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <stdexcept>

namespace samizdat::reach {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What one attempt does: wait `after`, then succeed with `value`, fail, or throw.
struct Plan {
  std::chrono::milliseconds after{0};
  enum class Then { succeed, fail, throw_up } then = Then::succeed;
};

asio::awaitable<Result<int>> perform(Plan plan, int value) {
  asio::steady_timer timer(co_await asio::this_coro::executor, plan.after);
  auto [ec] = co_await timer.async_wait(use_tuple);
  if (ec) co_return make_error(Errc::network, "interrupted: " + ec.message());
  if (plan.then == Plan::Then::throw_up) throw std::runtime_error("a bug in the attempt");
  if (plan.then == Plan::Then::fail) co_return make_error(Errc::network, "refused");
  co_return value;
}

struct Run {
  RaceOutcome<int> outcome;
  std::vector<Clock::duration> started;  // by index, since the race began
  std::vector<Error> failures;
  std::vector<bool> late_cut_short;
  Clock::duration took{};      // until race() returned
  Clock::duration all_done{};  // until io.run() returned: no attempt left behind
};

// cancel_after > 0: the race itself is cancelled then (its caller gave up).
Run run(std::vector<Plan> plans, RaceTiming timing, std::chrono::milliseconds cancel_after = 0ms) {
  asio::io_context io;
  Run out;
  out.started.resize(plans.size());
  const auto began = Clock::now();
  auto late = std::make_shared<std::vector<bool>>();
  RaceHooks<int> hooks;
  hooks.start = [&out, plans, began](std::size_t index) {
    out.started[index] = Clock::now() - began;
    return perform(plans[index], static_cast<int>(index));
  };
  hooks.settle = [&out](std::size_t, std::chrono::milliseconds, Result<int>& result) {
    if (!result.ok()) out.failures.push_back(result.error());
    return result.ok();
  };
  hooks.late = [late](std::size_t, std::chrono::milliseconds, Result<int>, bool cut_short) {
    late->push_back(cut_short);
  };
  asio::cancellation_signal cancel;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::any_io_executor executor = io.get_executor();
        std::size_t count = plans.size();
        out.outcome = co_await race<int>(executor, count, timing, hooks);
        out.took = Clock::now() - began;
      },
      asio::bind_cancellation_slot(cancel.slot(), log_escape("race_test: the race")));
  asio::steady_timer canceller(io);
  if (cancel_after.count() > 0) {
    canceller.expires_after(cancel_after);
    canceller.async_wait([&cancel](std::error_code ec) {
      if (!ec) cancel.emit(asio::cancellation_type::terminal);
    });
  }
  io.run();
  out.all_done = Clock::now() - began;
  out.late_cut_short = *late;
  return out;
}

TEST(Race, AFailureStartsTheNextAttemptWithoutWaitingForTheStagger) {
  auto out = run({{20ms, Plan::Then::fail}, {20ms, Plan::Then::succeed}, {0ms, Plan::Then::succeed}},
                 RaceTiming{.stagger = 2s});
  ASSERT_EQ(out.outcome.end, RaceEnd::won);
  EXPECT_EQ(out.outcome.winner, 1u);
  EXPECT_EQ(out.outcome.value, 1);
  EXPECT_LT(out.started[1], 1s);
  EXPECT_EQ(out.outcome.attempts[2].phase, RaceAttempt::Phase::not_started);
  EXPECT_LT(out.took, 1s);
}

TEST(Race, TheNextAttemptStartsAfterTheStaggerWhileTheFirstIsSilent) {
  auto out = run({{5s, Plan::Then::succeed}, {10ms, Plan::Then::succeed}}, RaceTiming{.stagger = 100ms});
  ASSERT_EQ(out.outcome.end, RaceEnd::won);
  EXPECT_EQ(out.outcome.winner, 1u);
  EXPECT_GE(out.started[1], 90ms);
  // The silent loser was cut short, came back as a value, and kept nothing running.
  EXPECT_EQ(out.outcome.attempts[0].phase, RaceAttempt::Phase::cut_short);
  EXPECT_EQ(out.late_cut_short, std::vector<bool>{true});
  EXPECT_LT(out.all_done, 2s);
}

TEST(Race, AnAttemptThatThrowsIsAFailureAndTheRaceStillEnds) {
  auto out = run({{10ms, Plan::Then::throw_up}, {20ms, Plan::Then::fail}}, RaceTiming{});
  EXPECT_EQ(out.outcome.end, RaceEnd::all_failed);
  ASSERT_EQ(out.failures.size(), 2u);
  EXPECT_EQ(out.failures[0].code, Errc::internal);
  EXPECT_NE(out.failures[0].message.find("a bug in the attempt"), std::string::npos);
  EXPECT_LT(out.took, 1s);
}

TEST(Race, TheDeadlineEndsTheRaceAndCutsEveryAttemptShort) {
  auto out = run({{5s, Plan::Then::succeed}, {5s, Plan::Then::succeed}}, RaceTiming{.deadline = 100ms});
  EXPECT_EQ(out.outcome.end, RaceEnd::deadline);
  EXPECT_EQ(out.outcome.cut_short(), 2u);
  EXPECT_GE(out.took, 90ms);
  EXPECT_LT(out.all_done, 2s);
}

TEST(Race, CancellingTheRaceEndsItAsAValue) {
  auto out = run({{5s, Plan::Then::succeed}}, RaceTiming{}, 50ms);
  EXPECT_EQ(out.outcome.end, RaceEnd::cancelled);
  EXPECT_EQ(out.outcome.cut_short(), 1u);
  EXPECT_LT(out.all_done, 2s);
}

TEST(Race, SlowAttemptsAreShownOnceBeforeTheyEnd) {
  RaceTiming timing;
  timing.slow_after = 30ms;
  asio::io_context io;
  std::vector<std::size_t> slow;
  RaceHooks<int> hooks;
  hooks.start = [](std::size_t index) { return perform({index == 0 ? 200ms : 10ms, Plan::Then::fail}, 0); };
  hooks.settle = [](std::size_t, std::chrono::milliseconds, Result<int>& result) { return result.ok(); };
  hooks.slow = [&slow](std::size_t index, std::chrono::milliseconds) { slow.push_back(index); };
  RaceOutcome<int> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::any_io_executor executor = io.get_executor();
        std::size_t count = 2;
        outcome = co_await race<int>(executor, count, timing, hooks);
      },
      log_escape("race_test: the race"));
  io.run();
  EXPECT_EQ(outcome.end, RaceEnd::all_failed);
  EXPECT_EQ(slow, std::vector<std::size_t>{0});
}

}  // namespace
}  // namespace samizdat::reach
