// Bootstrap string parsing (src/reach/bootstrap.hpp): arbitrary text must give a value
// or a clear error, and whatever parses must re-encode to a string that parses the same.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reach/bootstrap.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = reach::parse_bootstrap(text);
  if (!parsed.ok()) {
    if (parsed.error().message.empty()) std::abort();
    return 0;
  }
  auto encoded = reach::encode_bootstrap(*parsed);
  if (!encoded.ok()) std::abort();
  auto again = reach::parse_bootstrap(*encoded);
  if (!again.ok() || again->operator_key != parsed->operator_key ||
      again->endpoints.size() != parsed->endpoints.size() ||
      again->mirrors.size() != parsed->mirrors.size() || again->dns_names != parsed->dns_names) {
    std::abort();
  }
  for (std::size_t i = 0; i < parsed->endpoints.size(); ++i) {
    if (again->endpoints[i].to_uri_with_keys() != parsed->endpoints[i].to_uri_with_keys()) std::abort();
  }
  // Endpoint URIs are parsed from configs and command lines too.
  auto endpoint = transport::parse_endpoint_uri(text);
  if (endpoint.ok()) (void)endpoint->to_uri_with_keys();
  return 0;
}
