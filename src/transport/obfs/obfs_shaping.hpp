// First-packet shaping of the obfs transport. The client's first packet is
//   salt || masked record   (see obfs_handshake.hpp)
// and the shaping mode decides how it looks to a passive observer:
//   none      the salt is 32 random bytes and nothing is transformed: uniformly random
//             bytes (the GFW's "fully encrypted" rule flags most such packets);
//   prefix    the salt is 24..39 printable characters from a per-endpoint alphabet, its
//             length a keyed hash of its first 8 characters (PrefixShape): Ex2 (first 6
//             bytes printable) and Ex4 (> 20 contiguous printable) exempt every
//             connection; the salt keeps >= 144 random bits;
//   popcount  the whole packet is written in 6-bit symbols, each one of 64 byte values
//             with at most 3 bits set (a per-endpoint alphabet): a bijection on the
//             random bits (it adds bits, removes none), and the mean popcount is <= 3.0
//             on every packet, so Ex1 (<= 3.4) exempts it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::obfs {

inline constexpr std::size_t kRandomSaltSize = 32;
inline constexpr std::size_t kMinPrefixSalt = 24;
inline constexpr std::size_t kMaxPrefixSalt = 39;
// The characters of a prefix salt that decide its length (the server reads them first).
inline constexpr std::size_t kPrefixSaltHead = 8;

// An endpoint's prefix rule, derived from its secret (obfs_secrets.hpp) so that no
// observer without it can predict which characters a salt uses or how long it is: 64 of
// the 94 graphic ASCII characters (0x21..0x7e), and the key of the hash that gives a
// salt's length from its head. The head is 48 random bits, so watching connections does
// not teach the rule either: a head is practically never seen twice.
struct PrefixShape {
  std::array<std::uint8_t, 64> alphabet{};    // symbol -> character
  std::array<std::uint8_t, 32> length_key{};  // length = 24 + BLAKE2b(key, head)[0] mod 16
};

// A fresh prefix-mode salt: characters of shape.alphabet, length in [24, 39].
Bytes make_printable_salt(const PrefixShape& shape);
// The length of a prefix-mode salt from its first kPrefixSaltHead bytes; nullopt if one
// of them is outside the alphabet (so it cannot start this endpoint's salt).
std::optional<std::size_t> printable_salt_length(const PrefixShape& shape, ByteView head);

// Popcount shaping: 3 raw bytes <-> 4 symbols.
std::size_t popcount_encoded_size(std::size_t raw_size);  // raw padded to a multiple of 3
// Appends the encoding of raw (zero-filled to a multiple of 3 bytes).
void popcount_encode(const std::array<std::uint8_t, 64>& alphabet, ByteView raw, Bytes& out);
// Decodes whole groups of 4 symbols (wire.size() % 4 == 0) and appends the raw bytes.
// Errc::malformed for a byte outside the alphabet.
Status popcount_decode(const std::array<std::uint8_t, 64>& alphabet, ByteView wire, Bytes& raw);

}  // namespace samizdat::transport::obfs
