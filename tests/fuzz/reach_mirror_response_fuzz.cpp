// HTTPS mirror response parsing (src/reach/channels/https_mirror_map.hpp): whatever a
// hostile mirror or CDN sends back must give a body or an error, within the size limit.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reach/channels/https_mirror_map.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kLimit = 4096;
  auto body = reach::parse_mirror_response(text, kLimit);
  if (body.ok() && body->size() > size) std::abort();
  return 0;
}
