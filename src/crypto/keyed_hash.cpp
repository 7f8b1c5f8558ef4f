#include "crypto/keyed_hash.hpp"

#include <sodium.h>

#include <cstdlib>

namespace samizdat::crypto {

void blake2b(MutableByteView out, ByteView key, std::initializer_list<ByteView> parts) {
  if (out.size() < kBlake2bMinOutput || out.size() > kBlake2bMaxOutput || key.size() > kBlake2bMaxKey) {
    std::abort();  // programmer error: libsodium would refuse these sizes
  }
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, key.empty() ? nullptr : key.data(), key.size(), out.size());
  for (ByteView part : parts) {
    if (!part.empty()) crypto_generichash_blake2b_update(&state, part.data(), part.size());
  }
  crypto_generichash_blake2b_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof state);
}

std::array<std::uint8_t, 8> siphash24(const SipHashKey& key, ByteView message) {
  static_assert(crypto_shorthash_siphash24_BYTES == 8 && crypto_shorthash_siphash24_KEYBYTES == 16);
  std::array<std::uint8_t, 8> out{};
  crypto_shorthash_siphash24(out.data(), message.data(), message.size(), key.data());
  return out;
}

}  // namespace samizdat::crypto
