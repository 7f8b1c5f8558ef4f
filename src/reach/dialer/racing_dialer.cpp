#include "reach/dialer/racing_dialer.hpp"

#include <optional>

#include "reach/dialer/race.hpp"

namespace samizdat::reach {
namespace {

using Stream = std::unique_ptr<transport::FrameStream>;

// What the attempts share with race_dial, and with reports that come after it returned.
struct DialRace {
  std::vector<transport::Endpoint> candidates;
  transport::DialOptions dial_options;
  AttemptObserver observer;
  std::vector<std::optional<AttemptReport>> finished;  // by candidate index, while undecided

  AttemptReport report(std::size_t index, std::chrono::milliseconds elapsed,
                       const Result<Stream>& result) const {
    AttemptReport out;
    out.endpoint = candidates[index];
    out.elapsed = elapsed;
    out.ok = result.ok();
    if (!result.ok()) {
      out.failure = classify_dial_error(result.error());
      out.reason = result.error().message;
    }
    return out;
  }
  AttemptReport suspect(std::size_t index, std::chrono::milliseconds elapsed, const std::string& why) const {
    AttemptReport out;
    out.endpoint = candidates[index];
    out.suspect = true;
    out.failure = FailureClass::silent_drop;
    out.elapsed = elapsed;
    out.reason = "no answer after " + std::to_string(elapsed.count()) + " ms" + why;
    return out;
  }
  void observe(const AttemptReport& report) const {
    if (observer) observer(report);
  }
};

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
  auto shared = std::make_shared<DialRace>();
  shared->candidates = std::move(candidates);
  dial_options.timeout = options.attempt_timeout;
  shared->dial_options = std::move(dial_options);
  shared->observer = std::move(observer);
  const std::size_t count = shared->candidates.size();
  shared->finished.resize(count);
  std::vector<bool> suspected(count, false);  // a suspect report was sent

  RaceHooks<Stream> hooks;
  hooks.start = [shared, executor](std::size_t index) {
    return transport::dial(executor, shared->candidates[index], shared->dial_options);
  };
  hooks.settle = [shared](std::size_t index, std::chrono::milliseconds elapsed, Result<Stream>& result) {
    shared->finished[index] = shared->report(index, elapsed, result);
    shared->observe(*shared->finished[index]);
    return result.ok();
  };
  hooks.late = [shared](std::size_t index, std::chrono::milliseconds elapsed, Result<Stream> result,
                        bool cut_short) {
    // A loser cut short by the race: neither a success nor a failure of the endpoint.
    if (cut_short && !result.ok()) return;
    if (result.ok()) (*result)->close();  // a slower success: the race is already won
    shared->observe(shared->report(index, elapsed, result));
  };
  // Reported before the attempt ends: a command stopped while it hangs (Ctrl-C, a deadline,
  // SIGKILL) has already recorded something about the endpoint.
  hooks.slow = [shared, &suspected](std::size_t index, std::chrono::milliseconds elapsed) {
    suspected[index] = true;
    shared->observe(shared->suspect(index, elapsed, " (still trying)"));
  };
  RaceTiming timing;
  timing.stagger = options.stagger;
  timing.slow_after = options.suspect_after;
  auto outcome = co_await race<Stream>(executor, count, timing, hooks);

  if (outcome.value) {
    const std::size_t won = *outcome.winner;
    RaceWinner winner{std::move(*outcome.value), shared->candidates[won], outcome.attempts[won].elapsed};
    for (std::size_t i = 0; i < count; ++i) {
      const auto& attempt = outcome.attempts[i];
      // A loser that waited at least as long as the winner needed, with no answer: suspect
      // (lower rank, no backoff), so a blocked endpoint does not stay first and cost every
      // later command the stagger. One cancelled sooner had no fair chance: no verdict.
      if (attempt.phase == RaceAttempt::Phase::cut_short && !suspected[i] &&
          attempt.elapsed >= winner.elapsed) {
        shared->observe(shared->suspect(i, attempt.elapsed,
                                        " (cancelled: " + winner.endpoint.to_uri() + " answered first)"));
      }
    }
    co_return winner;
  }
  std::string summary;
  Errc code = Errc::network;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& report = shared->finished[i];
    if (!report) continue;
    if (i == 0 && report->failure == FailureClass::silent_drop) code = Errc::timeout;
    if (!summary.empty()) summary += "; ";
    summary += report->endpoint.to_uri() + ": " + std::string(to_string(report->failure)) + " (" +
               report->reason + ")";
  }
  co_return make_error(code, "no endpoint answered: " + summary);
}

}  // namespace samizdat::reach
