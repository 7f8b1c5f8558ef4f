#include "crypto/secret.hpp"

#include <cstdlib>
#include <mutex>

namespace samizdat::crypto {

void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing is safe
  });
}

void fill_random(MutableByteView out) {
  ensure_initialized();
  if (out.empty()) return;  // an empty span may carry a null pointer, which libsodium must not see
  randombytes_buf(out.data(), out.size());
}

Bytes random_bytes(std::size_t size) {
  Bytes out(size);
  fill_random(out);
  return out;
}

std::uint32_t random_uniform(std::uint32_t upper_bound) {
  ensure_initialized();
  return randombytes_uniform(upper_bound);
}

}  // namespace samizdat::crypto
