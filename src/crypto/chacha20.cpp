#include "crypto/chacha20.hpp"

#include <sodium.h>

#include <cstdlib>

namespace samizdat::crypto {

void chacha20_keystream(MutableByteView out, const std::array<std::uint8_t, 8>& nonce, const ChaChaKey& key) {
  static_assert(crypto_stream_chacha20_NONCEBYTES == 8 && crypto_stream_chacha20_KEYBYTES == 32);
  crypto_stream_chacha20(out.data(), out.size(), nonce.data(), key.data());
}

void chacha20poly1305_seal(MutableByteView out, ByteView plain, const std::array<std::uint8_t, 12>& nonce,
                           const ChaChaKey& key) {
  static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12 &&
                crypto_aead_chacha20poly1305_ietf_ABYTES == kChaChaPolyTag);
  if (out.size() != plain.size() + kChaChaPolyTag) std::abort();  // programmer error
  unsigned long long sealed = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &sealed, plain.data(), plain.size(), nullptr, 0,
                                            nullptr, nonce.data(), key.data());
}

bool chacha20poly1305_open(MutableByteView out, ByteView sealed, const std::array<std::uint8_t, 12>& nonce,
                           const ChaChaKey& key) {
  if (sealed.size() < kChaChaPolyTag || out.size() != sealed.size() - kChaChaPolyTag) std::abort();
  unsigned long long opened = 0;
  return crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &opened, nullptr, sealed.data(), sealed.size(),
                                                   nullptr, 0, nonce.data(), key.data()) == 0;
}

}  // namespace samizdat::crypto
