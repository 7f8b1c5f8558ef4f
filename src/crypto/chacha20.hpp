// ChaCha20 for the layers above crypto/ that frame their own records (the obfs transport):
// the raw keystream (DJB's 64-bit nonce; libsodium's crypto_stream_chacha20) and
// ChaCha20-Poly1305 (RFC 8439, 96-bit nonce; crypto_aead_chacha20poly1305_ietf).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "util/bytes.hpp"

namespace samizdat::crypto {

using ChaChaKey = std::array<std::uint8_t, 32>;
inline constexpr std::size_t kChaChaPolyTag = 16;

// Fills `out` with the keystream for (key, nonce), starting at block 0.
void chacha20_keystream(MutableByteView out, const std::array<std::uint8_t, 8>& nonce, const ChaChaKey& key);

// Writes ciphertext || tag into `out`, which must hold plain.size() + kChaChaPolyTag bytes.
void chacha20poly1305_seal(MutableByteView out, ByteView plain, const std::array<std::uint8_t, 12>& nonce,
                           const ChaChaKey& key);
// Writes the plaintext (sealed.size() - kChaChaPolyTag bytes) into `out`; false, with `out`
// left unspecified, when the tag does not verify.
[[nodiscard]] bool chacha20poly1305_open(MutableByteView out, ByteView sealed,
                                         const std::array<std::uint8_t, 12>& nonce, const ChaChaKey& key);

}  // namespace samizdat::crypto
