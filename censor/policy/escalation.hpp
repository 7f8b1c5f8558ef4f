// Roskomnadzor's 2018 escalation against Telegram, as a policy: block the
// service's known addresses; as it moves, block each new address, then whole /24s,
// then /16s, then whole cloud ranges. Pure bookkeeping (the runner applies the
// prefixes and counts the bystanders each step breaks).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "censor/block/ipv4.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

struct EscalationStep {
  int level = 0;                              // index into the levels
  std::string level_name;                     // "address", "/24", "/16", "cloud"
  std::vector<std::string> new_prefixes;      // what this step adds to the block list
  std::vector<std::string> trigger;           // addresses that got through and caused it
  std::uint64_t addresses_blocked_total = 0;  // IPv4 addresses covered after the step
};

class EscalationPolicy {
 public:
  // levels: "address", "/N" (any N), "cloud"; cloud_ranges are the prefixes "cloud" blocks.
  static Result<EscalationPolicy> create(std::vector<std::string> levels,
                                         std::vector<std::string> cloud_ranges);

  // The censor learns an address the service uses (from its own copy of the app).
  void learn(const std::string& address);
  // Prefixes blocked by other means (the registry): covered, but no escalation step.
  void assume_blocked(const std::vector<std::string>& prefixes);
  // Whether the address is already covered by a block.
  [[nodiscard]] bool covered(const std::string& address) const;
  // If some learned address is not covered: escalates one level (staying at the last) and
  // returns the prefixes that cover every learned address at that level. Empty otherwise.
  EscalationStep step();
  [[nodiscard]] const std::vector<std::string>& learned() const { return learned_; }
  [[nodiscard]] std::vector<std::string> blocked() const;

 private:
  std::vector<std::string> levels_;
  std::vector<Ipv4Prefix> cloud_;
  std::vector<std::string> learned_;
  std::vector<Ipv4Prefix> blocked_;
  int level_ = -1;
};

// Number of IPv4 addresses a set of prefixes covers (overlaps counted once).
std::uint64_t count_addresses(const std::vector<Ipv4Prefix>& prefixes);

}  // namespace samizdat::censor
