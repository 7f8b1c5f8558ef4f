// Racing dialer (RFC 8305 "happy eyeballs" style, over endpoints instead of addresses):
// starts the best-ranked endpoint, then the next one every `stagger` or as soon as an
// attempt fails, and returns the first stream whose handshake completes. Attempts still
// running when it is won are cancelled at once (nothing of the race outlives it for long),
// and streams that complete after the winner anyway are closed. It never walks the whole
// list up front: at most `max_attempts` endpoints are tried per call (an informant
// watching one client learns only what that client needed), and endpoints in backoff are
// skipped.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "reach/dialer/endpoint_health.hpp"
#include "reach/dialer/failure_class.hpp"
#include "transport/transport.hpp"

namespace samizdat::reach {

struct RaceOptions {
  std::chrono::milliseconds stagger{250};            // RFC 8305 connection attempt delay
  std::chrono::milliseconds attempt_timeout{5'000};  // connect + handshake, per endpoint
  std::size_t max_attempts = 3;                      // endpoints tried per race (widen on failure only)
  // true (long-running clients): endpoints in backoff are never dialled; if all are, the
  // race fails with Errc::unavailable at once. false (a command the user just typed): if
  // every endpoint is in backoff, the one whose backoff ends first is tried once.
  bool respect_backoff = true;
  // An attempt still unanswered after this long is reported `suspect` at once (before it
  // fails or the race ends), so a command stopped while it hangs (Ctrl-C, a deadline,
  // SIGKILL) has already recorded something about the endpoint.
  std::chrono::milliseconds suspect_after{500};
};

// One attempt's outcome. Finished attempts are reported (losers that ended on their own
// too, even after the race returned). `suspect` reports are provisional: an attempt that
// has not answered within suspect_after, or a loser cancelled because another endpoint
// won after it had already waited at least as long as the winner needed; they are
// delivered only while race_dial runs (before it returns). A loser cancelled sooner than
// that is not reported at all.
struct AttemptReport {
  transport::Endpoint endpoint;
  bool ok = false;
  bool suspect = false;  // no answer yet: not a failure (failure says what it looks like)
  FailureClass failure = FailureClass::none;
  std::string reason;  // the transport's error message when !ok
  std::chrono::milliseconds elapsed{0};
};

struct RaceWinner {
  std::unique_ptr<transport::FrameStream> stream;
  transport::Endpoint endpoint;
  std::chrono::milliseconds elapsed{0};
};

using AttemptObserver = std::function<void(const AttemptReport&)>;

// Races `candidates` (already in preference order, e.g. HealthBook::rank). `observer`
// sees every attempt's outcome on the executor; it is kept alive until the last attempt
// ends. Errors: Errc::unavailable (nothing to dial), or the best-ranked attempt's error
// (Errc::network / timeout / auth_failed) with a message listing every attempt.
asio::awaitable<Result<RaceWinner>> race_dial(asio::any_io_executor executor,
                                              std::vector<transport::Endpoint> candidates,
                                              transport::DialOptions dial_options, RaceOptions options,
                                              AttemptObserver observer);

// Picks the candidates for one race from `known`: ranked by `book`, endpoints in backoff
// dropped (or, without respect_backoff and nothing else left, only the first to come out).
std::vector<transport::Endpoint> pick_candidates(const std::vector<transport::Endpoint>& known,
                                                 const HealthBook& book, std::int64_t now_ms,
                                                 const RaceOptions& options);

}  // namespace samizdat::reach
