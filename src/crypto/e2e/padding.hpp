// Length hiding for sealed content: Padmé (Nikitin et al., PETS 2019) buckets, at least
// kMinPaddedSize. Overhead is at most ~12%, and a length leaks O(log log n) bits.
#pragma once

#include <cstddef>

namespace samizdat::crypto::e2e {

inline constexpr std::size_t kMinPaddedSize = 256;

// The bucket size for a plaintext of `length` bytes (>= length).
std::size_t padded_size(std::size_t length);

}  // namespace samizdat::crypto::e2e
