#include "censor/block/registry_dump.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "censor/block/ipv4.hpp"

namespace samizdat::censor {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, std::string_view separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(separator, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + separator.size();
  }
}

}  // namespace

Result<std::string> normalize_ipv4_prefix(std::string_view text) {
  auto prefix = SZ_TRY(parse_ipv4_prefix(text));
  return format_ipv4_prefix(prefix);
}

std::vector<std::string> RegistryDump::all_prefixes() const {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& entry : entries) {
    for (const auto& address : entry.addresses) {
      if (seen.insert(address).second) out.push_back(address);
    }
  }
  return out;
}

std::vector<std::string> RegistryDump::all_domains() const {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& entry : entries) {
    if (!entry.domain.empty() && seen.insert(entry.domain).second) out.push_back(entry.domain);
  }
  return out;
}

Result<RegistryDump> parse_registry_dump(std::string_view text) {
  RegistryDump dump;
  auto lines = split(text, "\n");
  if (lines.empty() || trim(lines[0]).rfind("Updated:", 0) != 0) {
    return make_error(Errc::malformed, "registry dump must start with a line 'Updated: <date>'");
  }
  dump.updated = std::string(trim(trim(lines[0]).substr(8)));
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(i + 1) + ": ";
    auto columns = split(line, ";");
    if (columns.size() < 6) {
      dump.problems.push_back(where + "expected 6 ';'-separated columns, found " +
                              std::to_string(columns.size()));
      continue;
    }
    RegistryEntry entry;
    // The URL column may itself contain ';': the last three columns are fixed.
    const size_t n = columns.size();
    entry.domain = std::string(trim(columns[1]));
    std::string url;
    for (size_t c = 2; c + 3 < n; ++c) {
      if (c > 2) url += ';';
      url += columns[c];
    }
    entry.url = std::string(trim(url));
    entry.organisation = std::string(trim(columns[n - 3]));
    entry.decision = std::string(trim(columns[n - 2]));
    entry.date = std::string(trim(columns[n - 1]));
    bool bad = false;
    for (auto address : split(columns[0], "|")) {
      address = trim(address);
      if (address.empty()) continue;
      if (address.find(':') != std::string_view::npos) {
        ++dump.ipv6_skipped;
        continue;
      }
      auto normalized = normalize_ipv4_prefix(address);
      if (!normalized) {
        dump.problems.push_back(where + normalized.error().message);
        bad = true;
        break;
      }
      entry.addresses.push_back(*normalized);
    }
    if (bad) continue;
    dump.entries.push_back(std::move(entry));
  }
  return dump;
}

Result<RegistryDump> load_registry_dump(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "cannot read registry dump " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto dump = parse_registry_dump(text.str());
  if (!dump) return make_error(dump.error().code, path + ": " + dump.error().message);
  return dump;
}

}  // namespace samizdat::censor
