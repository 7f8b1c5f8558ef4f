#include "crypto/e2e/hkdf.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

namespace samizdat::crypto::e2e {
namespace {

// One HKDF over either libsodium HMAC; the traits pick the hash.
struct Sha256 {
  static constexpr std::size_t kLen = crypto_auth_hmacsha256_BYTES;
  using State = crypto_auth_hmacsha256_state;
  static void init(State* s, ByteView key) { crypto_auth_hmacsha256_init(s, key.data(), key.size()); }
  static void update(State* s, const std::uint8_t* p, std::size_t n) {
    crypto_auth_hmacsha256_update(s, p, n);
  }
  static void final(State* s, std::uint8_t* out) { crypto_auth_hmacsha256_final(s, out); }
};
struct Sha512 {
  static constexpr std::size_t kLen = crypto_auth_hmacsha512_BYTES;
  using State = crypto_auth_hmacsha512_state;
  static void init(State* s, ByteView key) { crypto_auth_hmacsha512_init(s, key.data(), key.size()); }
  static void update(State* s, const std::uint8_t* p, std::size_t n) {
    crypto_auth_hmacsha512_update(s, p, n);
  }
  static void final(State* s, std::uint8_t* out) { crypto_auth_hmacsha512_final(s, out); }
};

template <class H>
void hmac(ByteView key, ByteView message, std::uint8_t* out) {
  typename H::State state;
  H::init(&state, key);
  H::update(&state, message.data(), message.size());
  H::final(&state, out);
  sodium_memzero(&state, sizeof state);
}

// HMAC state keyed with HashLen zero bytes (the empty-salt extract), keyed once per process:
// keying costs two compression calls, which matter on the ratchet's per-message path.
template <class H>
const typename H::State& zero_salt_state() {
  static const typename H::State state = [] {
    typename H::State s;
    std::uint8_t zeros[H::kLen] = {};
    H::init(&s, ByteView(zeros, H::kLen));
    return s;
  }();
  return state;
}

template <class H>
void hkdf(ByteView salt, ByteView ikm, ByteView info, MutableByteView out) {
  constexpr std::size_t L = H::kLen;
  if (out.size() > 255 * L) std::abort();  // programmer error (RFC 5869: L <= 255*HashLen)
  ensure_initialized();

  // PRK = HMAC(salt, IKM); an empty salt means HashLen zeros.
  typename H::State state;
  if (salt.empty()) {
    state = zero_salt_state<H>();
  } else {
    H::init(&state, salt);
  }
  Secret<L> prk;
  H::update(&state, ikm.data(), ikm.size());
  H::final(&state, prk.data());

  // T(i) = HMAC(PRK, T(i-1) || info || i); the PRK-keyed state is copied for each block.
  typename H::State keyed;
  H::init(&keyed, prk.view());
  Secret<L> block;
  std::size_t done = 0;
  for (std::uint8_t counter = 1; done < out.size(); ++counter) {
    state = keyed;
    if (counter > 1) H::update(&state, block.data(), L);
    H::update(&state, info.data(), info.size());
    H::update(&state, &counter, 1);
    H::final(&state, block.data());
    std::size_t n = std::min(L, out.size() - done);
    std::copy_n(block.data(), n, out.data() + done);
    done += n;
  }
  sodium_memzero(&state, sizeof state);
  sodium_memzero(&keyed, sizeof keyed);
}

}  // namespace

Secret<32> hmac_sha256(ByteView key, ByteView message) {
  ensure_initialized();
  Secret<32> out;
  hmac<Sha256>(key, message, out.data());
  return out;
}

Secret<64> hmac_sha512(ByteView key, ByteView message) {
  ensure_initialized();
  Secret<64> out;
  hmac<Sha512>(key, message, out.data());
  return out;
}

void hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, MutableByteView out) {
  hkdf<Sha256>(salt, ikm, info, out);
}

void hkdf_sha512(ByteView salt, ByteView ikm, ByteView info, MutableByteView out) {
  hkdf<Sha512>(salt, ikm, info, out);
}

}  // namespace samizdat::crypto::e2e
