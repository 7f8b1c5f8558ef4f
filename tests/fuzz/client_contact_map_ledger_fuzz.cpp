// The contact map ledger is read back from the account database: a damaged record must be an
// error value (never a crash), and whatever decodes re-encodes to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "client/contact_map.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  samizdat::ByteView input(data, size);
  auto ledger = samizdat::client::ContactMapLedger::decode(input);
  if (ledger.ok()) {
    auto again = ledger->encode();
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) __builtin_trap();
  }
  return 0;
}
