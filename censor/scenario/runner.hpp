// Runs one scenario for one subject end to end: builds the topology, starts the
// censor (nftables, resolver, DPI, prober), the bystanders and the subject's server,
// sends messages while replaying the censor's campaign, and returns the report.
// Everything it creates is removed before it returns, also on error or interrupt.
#pragma once

#include <atomic>
#include <string>

#include "censor/report/run_report.hpp"
#include "censor/scenario/scenario.hpp"

namespace samizdat::censor {

struct RunnerOptions {
  std::string report_dir;                          // the subject's directory (created)
  std::string control_binary;                      // samizdat-censor-control
  std::string bin_dir;                             // where samizdatd / samizdat are ({bin_dir})
  std::string source_dir;                          // project root ({source_dir})
  const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM
};

// status "skipped" when the subject's required files are missing; errors in setting
// up the testbed are returned as errors (after tearing down what was built).
Result<RunReport> run_subject(const Scenario& scenario, const SubjectSpec& subject,
                              const RunnerOptions& options);

}  // namespace samizdat::censor
