// RKN dump.csv lines come from disk (a downloaded registry): any bytes must parse or fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "censor/block/registry_dump.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto dump =
      samizdat::censor::parse_registry_dump(std::string_view(reinterpret_cast<const char*>(data), size));
  if (dump.ok()) {
    for (const auto& prefix : dump->all_prefixes()) {
      // Whatever the parser accepted must be a valid normalised prefix.
      if (!samizdat::censor::normalize_ipv4_prefix(prefix).ok()) __builtin_trap();
    }
  }
  return 0;
}
