// What one run of one subject through one scenario produced: messages, the
// censor's actions, bystanders, DPI verdicts and probes; written as report.json,
// summary.txt and timeline.png (gnuplot) in the subject's report directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "censor/dpi/passive_dpi.hpp"
#include "censor/policy/escalation.hpp"
#include "censor/probe/active_prober.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

struct MessageRecord {
  int id = 0;
  double t_s = 0;  // when the send started
  bool delivered = false;
  double deliver_ms = 0;  // send start -> seen by the receiver
  int attempts = 0;
  int user_actions = 0;     // manual reconfigurations this message needed
  std::string server_addr;  // the address the client used last
  std::string error;
};

struct FetchRecord {
  double t_s = 0;
  bool complete = false;
  double bits_per_second = 0;
  double seconds = 0;
  std::string error;
};

struct TimelineEntry {
  double t_s = 0;
  std::string kind;  // "event", "block", "escalation", "probe", "move", "user_action", "error"
  std::string detail;
};

struct BystanderCheck {
  double t_s = 0;
  std::string name, address, kind;
  bool reachable = false;
  std::string detail;
  std::string tag;  // e.g. "after escalation step 2 (/16)"
};

struct EscalationRecord {
  double t_s = 0;
  EscalationStep step;
  std::vector<std::string> bystanders_broken;  // checked right after the step
};

struct RunReport {
  std::string scenario, scenario_description, subject, subject_description;
  std::string status = "ok";  // "ok", "skipped", "error"
  std::string status_detail;
  std::string started_at;
  double duration_s = 0;
  double judge_after_s = 0;  // messages sent after this decide "cut off"
  std::vector<MessageRecord> messages;
  std::vector<FetchRecord> fetches;
  std::vector<TimelineEntry> timeline;
  std::vector<BystanderCheck> bystander_checks;
  std::vector<EscalationRecord> escalation;
  std::vector<FlowRecord> flows;
  std::vector<ProbeResult> probes;
  std::map<std::string, std::uint64_t> counters;  // packets matched per mechanism
  std::vector<std::string> blocked_prefixes;      // address blocks at the end (all mechanisms)
  std::uint64_t blocked_address_count = 0;
  std::string firewall_listing;

  struct Summary {
    int attempted = 0, delivered = 0, user_actions = 0;
    double p50_ms = 0, p95_ms = 0, max_ms = 0;
    int delivered_late = 0, attempted_late = 0;  // messages sent after judge_after_s
    bool cut_off = false;                        // none of those got through
    int bystanders = 0, bystanders_broken_final = 0;
    std::vector<std::string> broken_names;
    std::map<std::string, int> caught_by;  // mechanism -> blocks it added
    double fetch_median_bps = 0;
    int fetches_complete = 0;
  };
  [[nodiscard]] Summary summarize() const;
  [[nodiscard]] std::string to_json() const;
  [[nodiscard]] std::string summary_text() const;
  // report.json, summary.txt, timeline.dat/.gp/.png; gnuplot failing is logged, not fatal.
  Status write(const std::string& dir) const;
};

double percentile(std::vector<double> values, double p);

}  // namespace samizdat::censor
