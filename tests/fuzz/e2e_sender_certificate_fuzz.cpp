// Sender certificates arrive inside sealed envelopes (and from the server): strict parsing,
// one encoding only, verification never crashes and never accepts a forgery of the fixed key.
#include <cstddef>
#include <cstdint>

#include "crypto/e2e/sender_certificate.hpp"

using namespace samizdat;
using namespace samizdat::crypto;
using namespace samizdat::crypto::e2e;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Ed25519KeyPair server = Ed25519KeyPair::from_seed(Bytes(32, 2));
  ByteView input(data, size);
  auto certificate = SenderCertificate::parse(input);
  if (!certificate.ok()) return 0;
  if (certificate->encode() != to_bytes(input)) __builtin_trap();
  (void)certificate->verify(server.public_key, 1'800'000'000'000).ok();
  return 0;
}
