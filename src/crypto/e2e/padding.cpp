#include "crypto/e2e/padding.hpp"

#include <bit>

namespace samizdat::crypto::e2e {

std::size_t padded_size(std::size_t length) {
  if (length <= kMinPaddedSize) return kMinPaddedSize;
  // Padmé: keep the top floor(log2(E)) + 1 bits of the length's mantissa, round the rest up.
  std::size_t e = std::bit_width(length) - 1;  // floor(log2 L)
  std::size_t s = std::bit_width(e);           // floor(log2 E) + 1
  std::size_t last_bits = e - s;
  std::size_t mask = (std::size_t{1} << last_bits) - 1;
  return (length + mask) & ~mask;
}

}  // namespace samizdat::crypto::e2e
