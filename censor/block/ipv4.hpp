// IPv4 addresses and prefixes as numbers: parsing, containment and widening
// (the escalation policy's "the whole /24, then the /16").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace samizdat::censor {

struct Ipv4Prefix {
  std::uint32_t address = 0;  // host order, host bits cleared
  int length = 32;

  [[nodiscard]] bool contains(std::uint32_t other) const;
  [[nodiscard]] bool contains(const Ipv4Prefix& other) const;
  [[nodiscard]] Ipv4Prefix widened_to(int new_length) const;  // no-op when already wider
  bool operator==(const Ipv4Prefix&) const = default;
};

Result<std::uint32_t> parse_ipv4(std::string_view text);
Result<Ipv4Prefix> parse_ipv4_prefix(std::string_view text);  // "a.b.c.d" means /32
std::string format_ipv4(std::uint32_t address);
std::string format_ipv4_prefix(const Ipv4Prefix& prefix);  // "/32" omitted

}  // namespace samizdat::censor
