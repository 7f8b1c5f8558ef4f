#include "crypto/noise/blake2b_hkdf.hpp"

#include <sodium.h>

#include <array>

namespace samizdat::crypto::noise {
namespace {

constexpr std::size_t kBlockLen = 128;  // BLAKE2b block size, the HMAC pad width
constexpr std::size_t kHashLen = 64;

}  // namespace

Secret<64> hmac_blake2b(ByteView key, ByteView data) {
  // Key block: the key itself (zero-padded) or, if longer than a block, its hash.
  Secret<kBlockLen> key_block;
  if (key.size() > kBlockLen) {
    crypto_generichash_blake2b(key_block.data(), kHashLen, key.data(), key.size(), nullptr, 0);
  } else if (!key.empty()) {
    std::copy(key.begin(), key.end(), key_block.data());
  }

  Secret<kBlockLen> pad;
  Secret<kHashLen> inner;
  crypto_generichash_blake2b_state state;

  for (std::size_t i = 0; i < kBlockLen; ++i) pad.data()[i] = key_block.data()[i] ^ 0x36;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashLen);
  crypto_generichash_blake2b_update(&state, pad.data(), kBlockLen);
  crypto_generichash_blake2b_update(&state, data.data(), data.size());
  crypto_generichash_blake2b_final(&state, inner.data(), kHashLen);

  Secret<kHashLen> out;
  for (std::size_t i = 0; i < kBlockLen; ++i) pad.data()[i] = key_block.data()[i] ^ 0x5c;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashLen);
  crypto_generichash_blake2b_update(&state, pad.data(), kBlockLen);
  crypto_generichash_blake2b_update(&state, inner.data(), kHashLen);
  crypto_generichash_blake2b_final(&state, out.data(), kHashLen);
  sodium_memzero(&state, sizeof state);
  return out;
}

HkdfOutputs hkdf_blake2b(ByteView chaining_key, ByteView input_key_material, int num_outputs) {
  Secret<kHashLen> temp_key = hmac_blake2b(chaining_key, input_key_material);
  HkdfOutputs out;
  const std::uint8_t one = 0x01;
  out.first = hmac_blake2b(temp_key.view(), {&one, 1});

  Secret<kHashLen + 1> chained;
  std::copy(out.first.view().begin(), out.first.view().end(), chained.data());
  chained.data()[kHashLen] = 0x02;
  out.second = hmac_blake2b(temp_key.view(), chained.view());
  if (num_outputs == 3) {
    std::copy(out.second.view().begin(), out.second.view().end(), chained.data());
    chained.data()[kHashLen] = 0x03;
    out.third = hmac_blake2b(temp_key.view(), chained.view());
  }
  return out;
}

}  // namespace samizdat::crypto::noise
