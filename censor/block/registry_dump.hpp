// Roskomnadzor's public registry dump (dump.csv, as mirrored by zapret-info):
// first line "Updated: <date>", then one entry per line with ';'-separated columns
//   addresses (joined by " | ", subnets allowed); domain; URL; organisation; decision number; date
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace samizdat::censor {

struct RegistryEntry {
  std::vector<std::string> addresses;  // IPv4 addresses and prefixes ("a.b.c.d" or "a.b.c.d/n")
  std::string domain;
  std::string url;
  std::string organisation;
  std::string decision;
  std::string date;
};

struct RegistryDump {
  std::string updated;
  std::vector<RegistryEntry> entries;
  std::vector<std::string> problems;  // lines skipped, with line numbers and reasons
  std::size_t ipv6_skipped = 0;       // the testbed is IPv4-only

  [[nodiscard]] std::vector<std::string> all_prefixes() const;
  [[nodiscard]] std::vector<std::string> all_domains() const;
};

// Parses the text of a dump; fails only when the header is missing. Bad lines are skipped
// and listed in `problems` (the real dump has its share of them).
Result<RegistryDump> parse_registry_dump(std::string_view text);
Result<RegistryDump> load_registry_dump(const std::string& path);

// "a.b.c.d" or "a.b.c.d/n" with octets <= 255 and n <= 32, normalised (host bits cleared).
Result<std::string> normalize_ipv4_prefix(std::string_view text);

}  // namespace samizdat::censor
