#include "censor/policy/escalation.hpp"

#include <algorithm>

namespace samizdat::censor {

Result<EscalationPolicy> EscalationPolicy::create(std::vector<std::string> levels,
                                                  std::vector<std::string> cloud_ranges) {
  if (levels.empty()) return make_error(Errc::invalid_argument, "escalation needs at least one level");
  for (const auto& level : levels) {
    if (level == "address" || level == "cloud") continue;
    if (level.size() >= 2 && level[0] == '/' &&
        level.find_first_not_of("0123456789", 1) == std::string::npos && std::stoi(level.substr(1)) <= 32) {
      continue;
    }
    return make_error(Errc::invalid_argument,
                      "escalation level '" + level + "' is not one of address, /N (e.g. /24), cloud");
  }
  EscalationPolicy policy;
  policy.levels_ = std::move(levels);
  for (const auto& range : cloud_ranges) policy.cloud_.push_back(SZ_TRY(parse_ipv4_prefix(range)));
  return policy;
}

void EscalationPolicy::learn(const std::string& address) {
  if (!parse_ipv4(address)) return;
  if (std::find(learned_.begin(), learned_.end(), address) == learned_.end()) learned_.push_back(address);
}

void EscalationPolicy::assume_blocked(const std::vector<std::string>& prefixes) {
  for (const auto& text : prefixes) {
    if (auto prefix = parse_ipv4_prefix(text)) blocked_.push_back(*prefix);
  }
}

bool EscalationPolicy::covered(const std::string& address) const {
  auto parsed = parse_ipv4(address);
  if (!parsed) return false;
  return std::any_of(blocked_.begin(), blocked_.end(),
                     [&](const Ipv4Prefix& p) { return p.contains(*parsed); });
}

EscalationStep EscalationPolicy::step() {
  EscalationStep step;
  for (const auto& address : learned_) {
    if (!covered(address)) step.trigger.push_back(address);
  }
  if (step.trigger.empty()) return step;
  level_ = std::min<int>(level_ + 1, static_cast<int>(levels_.size()) - 1);
  step.level = level_;
  step.level_name = levels_[static_cast<std::size_t>(level_)];
  for (const auto& address : learned_) {
    const auto ip = *parse_ipv4(address);
    std::vector<Ipv4Prefix> wanted;
    if (step.level_name == "address") {
      wanted.push_back({ip, 32});
    } else if (step.level_name == "cloud") {
      for (const auto& range : cloud_) {
        if (range.contains(ip)) wanted.push_back(range);
      }
      if (wanted.empty()) wanted.push_back(Ipv4Prefix{ip, 32}.widened_to(16));  // not in a known cloud
    } else {
      wanted.push_back(Ipv4Prefix{ip, 32}.widened_to(std::stoi(step.level_name.substr(1))));
    }
    for (const auto& prefix : wanted) {
      bool already = std::any_of(blocked_.begin(), blocked_.end(),
                                 [&](const Ipv4Prefix& b) { return b.contains(prefix); });
      if (already) continue;
      blocked_.push_back(prefix);
      step.new_prefixes.push_back(format_ipv4_prefix(prefix));
    }
  }
  step.addresses_blocked_total = count_addresses(blocked_);
  return step;
}

std::vector<std::string> EscalationPolicy::blocked() const {
  std::vector<std::string> out;
  for (const auto& p : blocked_) out.push_back(format_ipv4_prefix(p));
  return out;
}

std::uint64_t count_addresses(const std::vector<Ipv4Prefix>& prefixes) {
  // Drop prefixes contained in others; the rest are disjoint (prefixes nest or don't meet).
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    bool inside_other = false;
    for (std::size_t j = 0; j < prefixes.size() && !inside_other; ++j) {
      if (i == j) continue;
      const bool contains = prefixes[j].contains(prefixes[i]);
      // Of two equal prefixes keep the first.
      inside_other = contains && (prefixes[j].length < prefixes[i].length || j < i);
    }
    if (!inside_other) total += std::uint64_t{1} << (32 - prefixes[i].length);
  }
  return total;
}

}  // namespace samizdat::censor
