#include "crypto/noise/cipher_state.hpp"

#include <sodium.h>

#include <array>
#include <limits>

namespace samizdat::crypto::noise {
namespace {

constexpr std::uint64_t kReservedNonce = std::numeric_limits<std::uint64_t>::max();

// ChaChaPoly nonce: 32 bits of zeros, then the counter little-endian (spec 12.3).
std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> make_nonce(std::uint64_t n) {
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return nonce;
}

}  // namespace

void CipherState::initialize_key(const Secret<32>& key) {
  key_ = key.clone();
  nonce_ = 0;
  has_key_ = true;
}

Result<Bytes> CipherState::encrypt_with_ad(ByteView ad, ByteView plaintext) {
  if (!has_key_) return Bytes(plaintext.begin(), plaintext.end());
  if (nonce_ == kReservedNonce) {
    return make_error(Errc::limit_exceeded, "Noise nonce exhausted: start a new session");
  }
  if (plaintext.size() + kTagSize > kMaxMessageSize) {
    return make_error(Errc::limit_exceeded, "Noise message of " +
                                                std::to_string(plaintext.size() + kTagSize) +
                                                " bytes exceeds 65535: split the payload");
  }
  Bytes out(plaintext.size() + kTagSize);
  auto nonce = make_nonce(nonce_);
  unsigned long long out_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_len, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, nonce.data(), key_.data());
  ++nonce_;
  return out;
}

Result<Bytes> CipherState::decrypt_with_ad(ByteView ad, ByteView ciphertext) {
  if (!has_key_) return Bytes(ciphertext.begin(), ciphertext.end());
  if (nonce_ == kReservedNonce) {
    return make_error(Errc::limit_exceeded, "Noise nonce exhausted: start a new session");
  }
  if (ciphertext.size() > kMaxMessageSize) {
    return make_error(Errc::limit_exceeded,
                      "Noise message of " + std::to_string(ciphertext.size()) + " bytes exceeds 65535");
  }
  if (ciphertext.size() < kTagSize) {
    return make_error(Errc::malformed, "Noise ciphertext of " + std::to_string(ciphertext.size()) +
                                           " bytes is shorter than its 16-byte tag (truncated?)");
  }
  Bytes out(ciphertext.size() - kTagSize);
  auto nonce = make_nonce(nonce_);
  unsigned long long out_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(), nonce.data(),
                                                key_.data()) != 0) {
    return make_error(Errc::auth_failed,
                      "Noise message did not authenticate (wrong key, tampered, or out of order)");
  }
  ++nonce_;
  return out;
}

void CipherState::rekey() {
  if (!has_key_) return;
  std::array<std::uint8_t, 32 + kTagSize> out{};
  const std::array<std::uint8_t, 32> zeros{};
  auto nonce = make_nonce(kReservedNonce);
  unsigned long long out_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_len, zeros.data(), zeros.size(), nullptr, 0,
                                            nullptr, nonce.data(), key_.data());
  std::copy(out.begin(), out.begin() + 32, key_.data());
  sodium_memzero(out.data(), out.size());
}

}  // namespace samizdat::crypto::noise
