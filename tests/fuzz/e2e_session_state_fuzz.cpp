// Session state read back from the client's database: strictly validated, one encoding only,
// and a loaded state can be used without crashing.
#include <cstddef>
#include <cstdint>

#include "crypto/e2e/ratchet_session.hpp"

using namespace samizdat;
using namespace samizdat::crypto::e2e;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(data, size);
  auto session = RatchetSession::deserialize(input);
  if (!session.ok()) return 0;
  if (to_bytes(session->serialize().view()) != to_bytes(input)) __builtin_trap();
  RatchetSession copy = session->clone();
  (void)copy.encrypt(as_bytes("probe")).ok();
  (void)session->decrypt(input).ok();
  return 0;
}
