// The tcp listener's handshake reading: a 2-byte length prefix and Noise message 1
// (IKpsk2 or NKpsk2 with the PSK proof), with a fixed server key and PSK. Valid seeds
// (tests/fuzz/corpus/transport_handshake) complete the handshake, so mutations explore
// every step. Must never crash; anything accepted must come with usable keys.
#include <cstdint>
#include <cstdlib>

#include "crypto/keys.hpp"
#include "crypto/secret.hpp"
#include "transport/noise/noise_handshake.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto server = [] {
    crypto::ensure_initialized();
    Bytes secret(32, 0x42);
    return crypto::X25519KeyPair::from_secret(secret);
  }();
  static const transport::Psk psk = [] {
    transport::Psk p{};
    p.fill(0x17);
    return p;
  }();
  ByteView input(data, size);
  if (input.size() < 2) return 0;
  auto length = transport::parse_handshake_length(input.first(2));
  if (!length.ok()) return 0;
  auto message = input.subspan(2, std::min(*length, input.size() - 2));
  auto result = transport::respond_to_client_hello(message, server, psk);
  if (result.ok()) {
    // An accepted hello yields a reply to send and working transport keys.
    if (result->reply.size() < 2 || result->keys.handshake_hash.size() != 64) std::abort();
    auto sealed = result->keys.send.encrypt_with_ad({}, as_bytes("ping"));
    if (!sealed.ok()) std::abort();
  }
  return 0;
}
