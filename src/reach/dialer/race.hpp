// A race of N attempts (RFC 8305 "happy eyeballs" over anything awaitable): attempt 0
// starts at once, the next one `stagger` later or as soon as an attempt fails; the first
// attempt judged a success wins and every attempt still running is cancelled at once
// (terminal cancellation, so a pending connect or read is aborted instead of keeping the
// io_context busy until its own timeout).
//
// Every attempt is accounted for exactly once, however it ends: an attempt that throws
// (asio throws operation_aborted from the next co_await after a cancellation the race did
// not send, or a bug throws) ends as an error value, never as an exception escaping a
// spawned coroutine, so the race can never wait for an attempt that is already gone. The
// race's own cancellation ends it as a value too (RaceEnd::cancelled).
//
// Used by the racing dialer (racing_dialer.hpp) and the client's map refresh.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/coro.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

struct RaceTiming {
  // Between two starts; 0 starts every attempt at once. A failure starts the next at once.
  std::chrono::milliseconds stagger{0};
  // The whole race ends (losers cancelled) this long after it started; none: only a win, or
  // every attempt ending, ends it.
  std::optional<std::chrono::milliseconds> deadline;
  // An attempt still running this long after its start is shown to RaceHooks::slow, once.
  std::optional<std::chrono::milliseconds> slow_after;
};

template <class T>
struct RaceHooks {
  // Runs attempt `index` (0 first) on the race's executor.
  std::function<asio::awaitable<Result<T>>(std::size_t index)> start;
  // An attempt ended while the race was undecided: true makes it the winner. Runs before
  // race() returns, so it may use what the caller's frame owns.
  std::function<bool(std::size_t index, std::chrono::milliseconds elapsed, Result<T>& result)> settle;
  // Every other ending: after the race was won or over (a slower success, a loser cut short
  // by the race's cancellation, then `cut_short`). It may run after race() returned, so it
  // must own what it uses. Unset: such results are dropped.
  std::function<void(std::size_t index, std::chrono::milliseconds elapsed, Result<T> result, bool cut_short)>
      late;
  // An attempt still undecided after RaceTiming::slow_after (only while the race is undecided).
  std::function<void(std::size_t index, std::chrono::milliseconds elapsed)> slow;
};

enum class RaceEnd { won, all_failed, deadline, cancelled };

struct RaceAttempt {
  enum class Phase { not_started, ended, cut_short };
  Phase phase = Phase::not_started;
  std::chrono::milliseconds elapsed{0};  // how long it ran (cut_short: until the race ended)
};

template <class T>
struct RaceOutcome {
  RaceEnd end = RaceEnd::all_failed;
  std::optional<std::size_t> winner;
  std::optional<T> value;             // the winner's
  std::vector<RaceAttempt> attempts;  // by index
  std::size_t cut_short() const {
    std::size_t n = 0;
    for (const auto& a : attempts) n += a.phase == RaceAttempt::Phase::cut_short ? 1 : 0;
    return n;
  }
};

namespace race_detail {

using SteadyClock = std::chrono::steady_clock;

inline std::chrono::milliseconds since(SteadyClock::time_point start, SteadyClock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
}

// Shared by the race and its attempts: an attempt may end after race() returned.
template <class T>
struct State {
  struct Slot {
    asio::cancellation_signal cancel;
    SteadyClock::time_point started_at{};
    bool started = false;
    bool ended = false;
    bool cut_short = false;  // still running when the race ended: cancellation sent
    bool slow_reported = false;
    std::chrono::milliseconds elapsed{0};
  };

  State(asio::any_io_executor executor, std::size_t count, RaceHooks<T> race_hooks)
      : wake(std::move(executor)), hooks(std::move(race_hooks)), slots(count) {}

  asio::steady_timer wake;
  RaceHooks<T> hooks;
  std::vector<Slot> slots;
  std::size_t started = 0;
  std::size_t running = 0;
  bool failed_since_start = false;  // a failure since the last start: start the next now
  bool over = false;                // set before the losers are cancelled
  std::optional<std::size_t> winner;
  std::optional<T> value;

  bool undecided() const { return !over && !winner; }

  // Accounts for attempt `index` (exactly once, whatever it ended with).
  void finish(std::size_t index, Result<T> result) {
    Slot& slot = slots[index];
    slot.ended = true;
    slot.elapsed = since(slot.started_at, SteadyClock::now());
    --running;
    if (!undecided()) {
      if (hooks.late) hooks.late(index, slot.elapsed, std::move(result), slot.cut_short);
      return;
    }
    if (hooks.settle(index, slot.elapsed, result) && result.ok()) {
      winner = index;
      value.emplace(std::move(result).value());
    } else {
      failed_since_start = true;
    }
    wake.cancel();
  }

  // Ends the race: the attempts still running are cut short. Idempotent.
  void end() {
    if (over) return;
    over = true;
    const auto now = SteadyClock::now();
    for (auto& slot : slots) {
      if (!slot.started || slot.ended) continue;
      slot.cut_short = true;
      slot.elapsed = since(slot.started_at, now);
      slot.cancel.emit(asio::cancellation_type::terminal);
    }
  }
};

template <class T>
asio::awaitable<void> run_attempt(std::shared_ptr<State<T>> state, std::size_t index) {
  std::optional<Result<T>> result;
  try {
    result.emplace(co_await state->hooks.start(index));
  } catch (const std::exception& e) {
    if (state->slots[index].cut_short) {
      // The race's own cancellation, surfacing from the attempt's next co_await.
      result.emplace(make_error(Errc::unavailable, "cancelled: the race ended"));
    } else {
      log_escaped_exception("a race attempt", std::current_exception());
      result.emplace(
          make_error(Errc::internal, std::string("the attempt failed with an exception: ") + e.what()));
    }
  } catch (...) {
    log_escaped_exception("a race attempt", std::current_exception());
    result.emplace(make_error(Errc::internal, "the attempt failed with an unknown exception"));
  }
  state->finish(index, std::move(*result));
}

}  // namespace race_detail

// Runs `count` attempts as described at the top. `hooks.start` and `hooks.settle` are
// required. Pass named variables, not temporaries (util/coro.hpp: GCC 12).
template <class T>
asio::awaitable<RaceOutcome<T>> race(asio::any_io_executor executor, std::size_t count, RaceTiming timing,
                                     RaceHooks<T> hooks) {
  using race_detail::SteadyClock;
  auto state = std::make_shared<race_detail::State<T>>(executor, count, std::move(hooks));
  // Decided: the body calls end() itself. Unwinding an exception: the attempts still running
  // are cancelled and never call `settle` again. A frame destroyed without being resumed (its
  // io_context is going away) takes the attempts' frames, and the cancellation slots in them,
  // with it: emitting then would touch freed frames (ASan: heap-use-after-free).
  struct EndRace {
    std::shared_ptr<race_detail::State<T>> state;
    int uncaught_at_start = std::uncaught_exceptions();
    ~EndRace() {
      if (std::uncaught_exceptions() > uncaught_at_start) state->end();
    }
  } end_race{state};

  const auto began = SteadyClock::now();
  const auto deadline = timing.deadline ? std::optional(began + *timing.deadline) : std::nullopt;
  auto start_next = [&] {
    const std::size_t index = state->started++;
    auto& slot = state->slots[index];
    slot.started = true;
    slot.started_at = SteadyClock::now();
    ++state->running;
    state->failed_since_start = false;
    asio::co_spawn(executor, race_detail::run_attempt<T>(state, index),
                   asio::bind_cancellation_slot(slot.cancel.slot(), log_escape("a race attempt")));
  };
  // Shows attempts that passed slow_after to `slow`; returns when the next one will.
  auto report_slow = [&](SteadyClock::time_point now) {
    std::optional<SteadyClock::time_point> next;
    if (!timing.slow_after) return next;
    for (std::size_t i = 0; i < state->started && state->undecided(); ++i) {
      auto& slot = state->slots[i];
      if (slot.ended || slot.slow_reported) continue;
      const auto due = slot.started_at + *timing.slow_after;
      if (now >= due) {
        slot.slow_reported = true;
        if (state->hooks.slow) state->hooks.slow(i, race_detail::since(slot.started_at, now));
      } else if (!next || due < *next) {
        next = due;
      }
    }
    return next;
  };

  RaceEnd end = RaceEnd::all_failed;
  auto next_start = SteadyClock::now();
  while (count > 0) {
    if (state->winner) {
      end = RaceEnd::won;
      break;
    }
    if (state->running == 0 && state->started == count) break;  // every attempt failed
    const auto now = SteadyClock::now();
    if (deadline && now >= *deadline) {
      end = RaceEnd::deadline;
      break;
    }
    asio::cancellation_state own = co_await asio::this_coro::cancellation_state;
    if (own.cancelled() != asio::cancellation_type::none) {
      end = RaceEnd::cancelled;
      break;
    }
    if (state->started < count && (now >= next_start || state->failed_since_start)) {
      start_next();
      next_start = SteadyClock::now() + timing.stagger;
      continue;
    }
    auto wake_at = report_slow(now);
    if (state->started < count && (!wake_at || next_start < *wake_at)) wake_at = next_start;
    if (deadline && (!wake_at || *deadline < *wake_at)) wake_at = *deadline;
    // Attempts ending cancel this wait; with nothing else due it waits for them.
    state->wake.expires_at(wake_at ? *wake_at : SteadyClock::time_point::max());
    co_await state->wake.async_wait(use_tuple);
  }
  state->end();

  RaceOutcome<T> outcome;
  outcome.end = end;
  outcome.winner = state->winner;
  if (state->value) outcome.value.emplace(std::move(*state->value));
  state->value.reset();
  outcome.attempts.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& slot = state->slots[i];
    auto& attempt = outcome.attempts[i];
    attempt.elapsed = slot.elapsed;
    attempt.phase = slot.cut_short ? RaceAttempt::Phase::cut_short
                    : slot.ended   ? RaceAttempt::Phase::ended
                                   : RaceAttempt::Phase::not_started;
  }
  co_return outcome;
}

}  // namespace samizdat::reach
