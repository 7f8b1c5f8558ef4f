// Opening sealed-sender envelopes as the recipient (fixed keys, so seeds are real envelopes):
// junk and tampering give errors, never crashes; what opens is re-checked.
#include <cstddef>
#include <cstdint>

#include "crypto/e2e/sealed_sender.hpp"

using namespace samizdat;
using namespace samizdat::crypto;
using namespace samizdat::crypto::e2e;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Ed25519KeyPair recipient = Ed25519KeyPair::from_seed(Bytes(32, 1));
  static const Ed25519KeyPair server = Ed25519KeyPair::from_seed(Bytes(32, 2));
  auto opened = open_envelope(recipient, server.public_key, 1'800'000'000'000, ByteView(data, size));
  if (opened.ok() && !opened->certificate.verify(server.public_key, 1'800'000'000'000).ok()) __builtin_trap();
  return 0;
}
