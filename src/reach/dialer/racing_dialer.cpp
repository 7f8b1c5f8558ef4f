#include "reach/dialer/racing_dialer.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <system_error>

#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::reach {
namespace {

struct RaceState {
  explicit RaceState(asio::any_io_executor executor) : wake(executor) {}
  asio::steady_timer wake;
  std::vector<transport::Endpoint> candidates;
  transport::DialOptions dial_options;
  AttemptObserver observer;
  std::optional<RaceWinner> winner;
  std::vector<std::optional<AttemptReport>> reports;  // by candidate index
  // Per attempt: emitted (terminal) when the race ends while it still runs, so its pending
  // connect/read is aborted at once instead of keeping the io_context busy until the
  // attempt timeout (a one-shot command would otherwise wait that long to exit).
  std::vector<std::unique_ptr<asio::cancellation_signal>> cancel;
  std::vector<bool> cancelled;                                    // by candidate index
  std::vector<std::chrono::steady_clock::time_point> started_at;  // by candidate index
  std::vector<bool> suspected;                                    // a suspect report was sent
  std::size_t running = 0;
  std::size_t failed_since_start = 0;  // failures since the last attempt started
  bool race_over = false;
};

asio::awaitable<void> attempt(std::shared_ptr<RaceState> state, std::size_t index) {
  auto executor = state->wake.get_executor();
  transport::Endpoint endpoint = state->candidates[index];
  transport::DialOptions options = state->dial_options;
  const std::int64_t start = monotonic_micros();
  Result<std::unique_ptr<transport::FrameStream>> result =
      make_error(Errc::internal, "the attempt ended without a result");
  try {
    auto dialled = co_await transport::dial(executor, endpoint, options);
    result = std::move(dialled);
  } catch (const std::system_error&) {
    // After a cancellation, the next asynchronous operation the transport awaits throws
    // operation_aborted (asio's throw_if_cancelled): that is how a loser stops at once
    // even when the operation it was in could not be cancelled itself.
    if (!state->cancelled[index]) throw;
  }
  if (state->cancelled[index] && !result.ok()) {
    // A loser cut short by the race: neither a success nor a failure of the endpoint.
    --state->running;
    co_return;
  }
  AttemptReport report;
  report.endpoint = endpoint;
  report.elapsed = std::chrono::milliseconds((monotonic_micros() - start) / 1000);
  if (result.ok()) {
    report.ok = true;
    if (!state->winner && !state->race_over) {
      state->winner = RaceWinner{std::move(*result), endpoint, report.elapsed};
    } else {
      (*result)->close();  // a slower success: the race is already won
    }
  } else {
    report.failure = classify_dial_error(result.error());
    report.reason = result.error().message;
    ++state->failed_since_start;
  }
  --state->running;
  state->reports[index] = report;
  state->wake.cancel();
  if (state->observer) state->observer(report);
}

}  // namespace

std::vector<transport::Endpoint> pick_candidates(const std::vector<transport::Endpoint>& known,
                                                 const HealthBook& book, std::int64_t now_ms,
                                                 const RaceOptions& options) {
  std::vector<transport::Endpoint> out;
  auto order = book.rank(known, now_ms);
  for (std::size_t i : order) {
    const auto* health = book.find(HealthBook::key(known[i]));
    if (health && health->in_backoff(now_ms)) continue;
    out.push_back(known[i]);
  }
  if (out.empty() && !options.respect_backoff && !order.empty()) out.push_back(known[order.front()]);
  return out;
}

asio::awaitable<Result<RaceWinner>> race_dial(asio::any_io_executor executor,
                                              std::vector<transport::Endpoint> candidates,
                                              transport::DialOptions dial_options, RaceOptions options,
                                              AttemptObserver observer) {
  if (candidates.empty()) {
    co_return make_error(
        Errc::unavailable,
        "every known endpoint failed recently and is backing off: waiting before trying again");
  }
  if (candidates.size() > options.max_attempts)
    candidates.resize(std::max<std::size_t>(options.max_attempts, 1));
  auto state = std::make_shared<RaceState>(executor);
  state->candidates = std::move(candidates);
  dial_options.timeout = options.attempt_timeout;
  state->dial_options = std::move(dial_options);
  state->observer = std::move(observer);
  state->reports.resize(state->candidates.size());
  state->cancelled.resize(state->candidates.size(), false);
  for (std::size_t i = 0; i < state->candidates.size(); ++i)
    state->cancel.push_back(std::make_unique<asio::cancellation_signal>());

  state->started_at.resize(state->candidates.size());
  state->suspected.resize(state->candidates.size(), false);

  std::size_t started = 0;
  auto report_suspect = [&](std::size_t i, std::chrono::steady_clock::time_point now,
                            const std::string& why) {
    state->suspected[i] = true;
    AttemptReport report;
    report.endpoint = state->candidates[i];
    report.suspect = true;
    report.failure = FailureClass::silent_drop;
    report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - state->started_at[i]);
    report.reason = "no answer after " + std::to_string(report.elapsed.count()) + " ms" + why;
    if (state->observer) state->observer(report);
  };
  // Attempts unanswered for suspect_after are reported now; returns when the next one is due.
  auto check_suspects = [&]() -> std::optional<std::chrono::steady_clock::time_point> {
    const auto now = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> next;
    for (std::size_t i = 0; i < started; ++i) {
      if (state->reports[i] || state->suspected[i]) continue;
      const auto due = state->started_at[i] + options.suspect_after;
      if (now >= due) {
        report_suspect(i, now, " (still trying)");
      } else if (!next || due < *next) {
        next = due;
      }
    }
    return next;
  };
  auto start_next = [&] {
    ++state->running;
    state->failed_since_start = 0;
    const std::size_t index = started++;
    state->started_at[index] = std::chrono::steady_clock::now();
    asio::co_spawn(
        executor, attempt(state, index),
        asio::bind_cancellation_slot(state->cancel[index]->slot(), log_escape("racing_dialer: attempt")));
  };
  start_next();
  auto next_start = std::chrono::steady_clock::now() + options.stagger;
  while (!state->winner) {
    if (state->running == 0 && started == state->candidates.size()) break;  // all failed
    auto suspect_due = check_suspects();
    auto wake_at = std::chrono::steady_clock::now() + options.attempt_timeout + std::chrono::seconds(1);
    if (started < state->candidates.size()) {
      // RFC 8305: the next attempt starts after the stagger delay, or at once when an
      // attempt failed.
      if (std::chrono::steady_clock::now() >= next_start || state->failed_since_start > 0) {
        start_next();
        next_start = std::chrono::steady_clock::now() + options.stagger;
        continue;
      }
      wake_at = next_start;
    }
    if (suspect_due && *suspect_due < wake_at) wake_at = *suspect_due;
    state->wake.expires_at(wake_at);
    co_await state->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  state->race_over = true;
  const auto ended = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < started; ++i) {
    if (state->reports[i]) continue;  // already finished
    // A loser that waited at least as long as the winner needed, with no answer: suspect
    // (lower rank, no backoff), so a blocked endpoint does not stay first and cost every
    // later command the stagger. One cancelled sooner had no fair chance: no verdict.
    if (state->winner && !state->suspected[i] && ended - state->started_at[i] >= state->winner->elapsed) {
      report_suspect(i, ended, " (cancelled: " + state->winner->endpoint.to_uri() + " answered first)");
    }
    state->cancelled[i] = true;
    state->cancel[i]->emit(asio::cancellation_type::terminal);
  }
  if (state->winner) {
    RaceWinner winner = std::move(*state->winner);
    state->winner.reset();
    co_return winner;
  }
  std::string summary;
  Errc code = Errc::network;
  for (std::size_t i = 0; i < state->reports.size(); ++i) {
    const auto& report = state->reports[i];
    if (!report) continue;
    if (i == 0 && report->failure == FailureClass::silent_drop) code = Errc::timeout;
    if (!summary.empty()) summary += "; ";
    summary += report->endpoint.to_uri() + ": " + std::string(to_string(report->failure)) + " (" +
               report->reason + ")";
  }
  co_return make_error(code, "no endpoint answered: " + summary);
}

}  // namespace samizdat::reach
