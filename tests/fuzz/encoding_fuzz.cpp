// Decoders of text that arrives from users and the network must reject junk cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto decoded :
       {samizdat::hex_decode(text), samizdat::base32_decode(text), samizdat::base64url_decode(text)}) {
    (void)decoded.ok();
  }
  if (auto decoded = samizdat::base64url_decode(text); decoded.ok()) {
    if (samizdat::base64url_encode(*decoded) != text) __builtin_trap();  // canonical round trip
  }
  return 0;
}
