// Keyed hashes for the layers above crypto/ (transport, reach), so that only crypto/ calls
// libsodium: BLAKE2b (RFC 7693; libsodium's crypto_generichash) for key derivation,
// checksums and MACs, and SipHash-2-4 (crypto_shorthash) for hash tables fed by strangers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "util/bytes.hpp"

namespace samizdat::crypto {

inline constexpr std::size_t kBlake2bMinOutput = 16;
inline constexpr std::size_t kBlake2bMaxOutput = 64;
inline constexpr std::size_t kBlake2bMaxKey = 64;

// BLAKE2b of the concatenation of `parts`, out.size() bytes long (16..64), keyed with `key`
// (0..64 bytes; empty: unkeyed). Sizes outside those ranges are programmer errors (abort).
void blake2b(MutableByteView out, ByteView key, std::initializer_list<ByteView> parts);

template <std::size_t N>
[[nodiscard]] std::array<std::uint8_t, N> blake2b(ByteView key, std::initializer_list<ByteView> parts) {
  static_assert(N >= kBlake2bMinOutput && N <= kBlake2bMaxOutput, "BLAKE2b output is 16..64 bytes");
  std::array<std::uint8_t, N> out{};
  blake2b(out, key, parts);
  return out;
}

using SipHashKey = std::array<std::uint8_t, 16>;
// SipHash-2-4 of `message`: 8 bytes, in libsodium's (little-endian) byte order.
[[nodiscard]] std::array<std::uint8_t, 8> siphash24(const SipHashKey& key, ByteView message);

}  // namespace samizdat::crypto
