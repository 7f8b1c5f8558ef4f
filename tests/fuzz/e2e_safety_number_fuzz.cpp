// Scanned safety-number codes come from a camera: anything gives a clear answer, and only the
// exact counterpart code matches.
#include <cstddef>
#include <cstdint>

#include "crypto/e2e/safety_number.hpp"

using namespace samizdat;
using namespace samizdat::crypto;
using namespace samizdat::crypto::e2e;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const SafetyNumber bob_view = safety_number(Ed25519KeyPair::from_seed(Bytes(32, 1)).public_key,
                                                     Ed25519KeyPair::from_seed(Bytes(32, 3)).public_key);
  static const SafetyNumber alice_view = safety_number(Ed25519KeyPair::from_seed(Bytes(32, 3)).public_key,
                                                       Ed25519KeyPair::from_seed(Bytes(32, 1)).public_key);
  ByteView scanned(data, size);
  bool match = compare_scanned_safety_number(bob_view, scanned).ok();
  if (match != (to_bytes(scanned) == alice_view.scannable)) __builtin_trap();
  return 0;
}
