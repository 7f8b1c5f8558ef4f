// The censor's nftables table: every blocking mechanism is a named set plus the
// rule that drops, resets or rate-limits what matches it, each with its own counter
// so a report can say which mechanism caught what.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace samizdat::censor {

enum class BlockAction { drop, reset };

// Which part of the censor asked for a block (also the nftables set prefix).
enum class Mechanism {
  registry,         // addresses from the RKN-style dump
  escalation,       // the escalation policy (address, /24, /16, cloud ranges)
  prober,           // addresses an active probe confirmed as circumvention servers
  fully_encrypted,  // 3-tuples of flows the Wu et al. rules flagged
  protocol,         // 3-tuples of flows nDPI classified as a blocked protocol or risk
  sni_reset,        // flows whose TLS SNI is listed: reset
  sni_throttle,     // flows whose TLS SNI is listed: rate-limited by dropping
};

std::string to_string(Mechanism mechanism);
std::string to_string(BlockAction action);

struct FirewallOptions {
  std::uint64_t throttle_bits_per_second = 150'000;  // TSPU on Twitter, March 2021
  // Interfaces facing the clients. When set, the first data packets of every new TCP flow
  // arriving on them are held (dropped, so the client retransmits) until the DPI has judged
  // the flow: this stands in for an inline DPI box, which this kernel cannot host (no NFQUEUE).
  std::vector<std::string> hold_until_judged;
};

class Firewall {
 public:
  static constexpr const char* kTable = "samizdat_censor";

  // Installs the table in the censor namespace (replacing a previous one).
  static Result<Firewall> install(const std::string& censor_ns, const FirewallOptions& options = {});

  // Address/prefix blocks (registry, escalation, prober); overlapping prefixes merge.
  Status block_prefixes(Mechanism mechanism, BlockAction action, const std::vector<std::string>& prefixes);
  // (destination address, destination port, protocol) blocked for `seconds` (GFW style).
  Status block_tuple(Mechanism mechanism, BlockAction action, const std::string& address, std::uint16_t port,
                     const std::string& protocol, int seconds);
  // One TCP flow (client side first) marked for SNI reset or throttling for `seconds`.
  Status mark_flow(Mechanism mechanism, const std::string& client, std::uint16_t client_port,
                   const std::string& server, std::uint16_t server_port, int seconds);
  // The DPI has judged this flow: its packets are no longer held.
  Status mark_judged(const std::string& client, std::uint16_t client_port, const std::string& server,
                     std::uint16_t server_port);
  // Packets each mechanism's rules matched, keyed "<mechanism>_<action>".
  Result<std::map<std::string, std::uint64_t>> packet_counters() const;
  // The current elements of a set, as nft prints them.
  Result<std::vector<std::string>> elements(const std::string& set) const;
  // The whole table as nft prints it (for reports and debugging).
  Result<std::string> listing() const;

  [[nodiscard]] static std::string set_name(Mechanism mechanism, BlockAction action);
  [[nodiscard]] static std::string nft_script(const FirewallOptions& options);

 private:
  Status nft(const std::string& command) const;
  std::string ns_;
};

}  // namespace samizdat::censor
