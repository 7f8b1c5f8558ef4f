// Addresses are typed and pasted by people: any text gives a value or a clear error, and a
// parsed address prints back to something that parses to the same key.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/e2e/address.hpp"

using namespace samizdat::crypto::e2e;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto address = Address::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!address.ok()) {
    if (address.error().message.empty()) __builtin_trap();
    return 0;
  }
  auto again = Address::parse(address->to_grouped_string());
  if (!again.ok() || !(*again == *address)) __builtin_trap();
  return 0;
}
