#include "crypto/noise/symmetric_state.hpp"

#include <sodium.h>

#include "crypto/noise/blake2b_hkdf.hpp"

namespace samizdat::crypto::noise {
namespace {

Secret<32> truncate_to_key(const Secret<kHashLen>& output) { return Secret<32>(output.view().first(32)); }

}  // namespace

void SymmetricState::initialize(std::string_view protocol_name) {
  auto name = as_bytes(protocol_name);
  h_.fill(0);
  if (name.size() <= kHashLen) {
    std::copy(name.begin(), name.end(), h_.begin());
  } else {
    crypto_generichash_blake2b(h_.data(), kHashLen, name.data(), name.size(), nullptr, 0);
  }
  ck_ = Secret<kHashLen>(handshake_hash());
  cipher_ = CipherState();
}

void SymmetricState::mix_key(ByteView input_key_material) {
  auto out = hkdf_blake2b(ck_.view(), input_key_material, 2);
  ck_ = std::move(out.first);
  cipher_.initialize_key(truncate_to_key(out.second));
}

void SymmetricState::mix_hash(ByteView data) {
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kHashLen);
  crypto_generichash_blake2b_update(&state, h_.data(), h_.size());
  crypto_generichash_blake2b_update(&state, data.data(), data.size());
  crypto_generichash_blake2b_final(&state, h_.data(), kHashLen);
}

void SymmetricState::mix_key_and_hash(ByteView input_key_material) {
  auto out = hkdf_blake2b(ck_.view(), input_key_material, 3);
  ck_ = std::move(out.first);
  mix_hash(out.second.view());
  cipher_.initialize_key(truncate_to_key(out.third));
}

Result<Bytes> SymmetricState::encrypt_and_hash(ByteView plaintext) {
  auto ciphertext = SZ_TRY(cipher_.encrypt_with_ad(handshake_hash(), plaintext));
  mix_hash(ciphertext);
  return ciphertext;
}

Result<Bytes> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
  auto plaintext = SZ_TRY(cipher_.decrypt_with_ad(handshake_hash(), ciphertext));
  mix_hash(ciphertext);
  return plaintext;
}

std::pair<CipherState, CipherState> SymmetricState::split() const {
  const Bytes empty;
  auto out = hkdf_blake2b(ck_.view(), empty, 2);
  return {CipherState(truncate_to_key(out.first)), CipherState(truncate_to_key(out.second))};
}

void SymmetricState::wipe_keys() {
  ck_.wipe();
  cipher_ = CipherState();
}

}  // namespace samizdat::crypto::noise
