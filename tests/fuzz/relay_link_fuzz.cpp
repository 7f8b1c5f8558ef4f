// Relay share links (src/transport/relay/relay_link.hpp): arbitrary text must give a value
// or a clear error, and whatever parses must re-encode to a link that parses the same.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/relay/relay_link.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = transport::parse_relay_link(text);
  if (!parsed.ok()) {
    if (parsed.error().message.empty()) std::abort();
    return 0;
  }
  auto encoded = transport::encode_relay_link(*parsed);
  if (!encoded.ok()) return 0;  // e.g. an endpoint whose URI grew past the limit when re-rendered
  auto again = transport::parse_relay_link(*encoded);
  if (!again.ok() || again->endpoints.size() != parsed->endpoints.size()) std::abort();
  for (std::size_t i = 0; i < parsed->endpoints.size(); ++i) {
    if (again->endpoints[i].to_uri_with_keys() != parsed->endpoints[i].to_uri_with_keys()) std::abort();
  }
  return 0;
}
