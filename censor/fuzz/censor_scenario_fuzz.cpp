// Scenario files are user input: junk TOML must give an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "censor/scenario/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)samizdat::censor::parse_scenario(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  return 0;
}
