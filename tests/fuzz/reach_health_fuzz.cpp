// Endpoint health record (src/reach/dialer/endpoint_health.hpp), read from the account
// database: arbitrary bytes give a value or a clear error, and whatever decodes
// re-encodes to the same bytes (an old "SZH1" record re-encodes as "SZH2", which must
// then round-trip exactly); ranking over the decoded book never crashes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "reach/dialer/endpoint_health.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = reach::HealthBook::decode(ByteView(data, size));
  if (!decoded.ok()) {
    if (decoded.error().message.empty()) std::abort();
    return 0;
  }
  Bytes again = decoded->encode();
  const bool v1 = size >= 4 && std::equal(data, data + 4, "SZH1");
  if (v1) {
    auto upgraded = reach::HealthBook::decode(again);
    if (!upgraded.ok() || upgraded->encode() != again) std::abort();
  } else if (again.size() != size || !std::equal(again.begin(), again.end(), data)) {
    std::abort();
  }
  std::vector<transport::Endpoint> known(1);
  known[0].host = "127.0.0.1";
  known[0].port = 1;
  (void)decoded->rank(known, 0);
  return 0;
}
