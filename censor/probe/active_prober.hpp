// The GFW-style active prober. For a server the DPI flagged it sends, each on a
// fresh connection from the censor namespace: the captured first packet replayed
// as-is and with one byte changed, random probes of the lengths the GFW used (7-50
// and 221 bytes), an HTTP request and a TLS ClientHello. It then compares the
// reactions with what a random service or a website would do and, when the server
// gives itself away, blocks its address.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "censor/block/firewall.hpp"
#include "censor/dpi/passive_dpi.hpp"
#include "util/bytes.hpp"

namespace samizdat::censor {

enum class ProbeEnd { refused, reset, closed, timeout, open };  // how the server ended the probe

struct ProbeReaction {
  std::string probe;  // "replay", "replay-changed", "random-7", "http", "tls"
  std::size_t sent = 0;
  ProbeEnd end = ProbeEnd::timeout;
  std::size_t received = 0;
  std::string first_bytes_hex;  // first 16 bytes of the answer
  double seconds = 0;
};

struct ProbeDecision {
  bool block = false;
  bool replay_accepted = false;      // identical replay answered differently from a changed one
  bool length_threshold = false;     // closes on long probes, waits on short ones
  bool answers_http = false;         // behaves like a website to HTTP
  bool answers_tls = false;          // behaves like a TLS server
  std::vector<std::string> reasons;  // human-readable
};

struct ProbeResult {
  double t_s = 0;
  std::string server;
  std::uint16_t port = 0;
  std::vector<ProbeReaction> reactions;
  ProbeDecision decision;
};

struct ProberPolicy {
  bool enabled = false;
  double read_timeout_s = 2.0;  // how long a probe waits for an answer
  // How long after a suspect connection the probes start. The GFW's follow the
  // connection (Alice et al. 2020: from under a second to hours later); 0 lets the
  // replay race the inline-held original, which then reaches the server second.
  double delay_s = 0;
  std::vector<std::size_t> random_lengths = {7, 8, 11, 16, 22, 33, 40, 49, 50, 221};
  bool block_on_replay = true;
  bool block_on_threshold = true;
  BlockAction action = BlockAction::drop;
  std::string claimed_sni = "www.example.com";  // SNI of the TLS probe
};

std::string to_string(ProbeEnd end);

// Decides from reactions alone (a pure function, so it is unit-testable).
ProbeDecision decide(const std::vector<ProbeReaction>& reactions, const ProberPolicy& policy);

// One replay probe's payload with one byte changed (never creating or removing '\n').
Bytes change_one_byte(const Bytes& payload);

class ActiveProber {
 public:
  using OnResult = std::function<void(const ProbeResult&)>;
  static Result<std::unique_ptr<ActiveProber>> start(const std::string& censor_ns, ProberPolicy policy,
                                                     Firewall* firewall, OnResult on_result);
  ~ActiveProber();
  void stop();
  // Queues a server for probing (once per server:port).
  void request(const ProbeRequest& request);
  std::vector<ProbeResult> results();
  // Probes one server now, from the calling thread (which must be in the right namespace).
  static ProbeResult probe_now(const ProbeRequest& request, const ProberPolicy& policy);

 private:
  ActiveProber() = default;
  void loop();
  std::string censor_ns_;
  ProberPolicy policy_;
  Firewall* firewall_ = nullptr;
  OnResult on_result_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ProbeRequest> queue_;
  std::set<std::string> seen_;
  std::vector<ProbeResult> results_;
  bool stopping_ = false;
  std::thread thread_;
  Status started_;
};

}  // namespace samizdat::censor
