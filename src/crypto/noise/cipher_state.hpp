// Noise CipherState (spec rev. 34, section 5.1) for ChaChaPoly: ChaCha20-Poly1305
// IETF with a 96-bit nonce of 4 zero bytes || the 64-bit counter, little-endian.
#pragma once

#include <cstdint>
#include <utility>

#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::noise {

// Largest Noise message (handshake or transport), in bytes.
inline constexpr std::size_t kMaxMessageSize = 65535;
inline constexpr std::size_t kTagSize = 16;

// A key and a nonce counter. Without a key (during the early handshake) it passes
// plaintext through unchanged, as the spec requires.
class CipherState {
 public:
  CipherState() = default;
  explicit CipherState(const Secret<32>& key) { initialize_key(key); }
  // Moving leaves the source keyless, so it can never encrypt under a wiped (all-zero) key.
  CipherState(CipherState&& other) noexcept
      : key_(std::move(other.key_)), nonce_(other.nonce_), has_key_(other.has_key_) {
    other.forget();
  }
  CipherState& operator=(CipherState&& other) noexcept {
    if (this != &other) {
      key_ = std::move(other.key_);
      nonce_ = other.nonce_;
      has_key_ = other.has_key_;
      other.forget();
    }
    return *this;
  }

  // AEAD with the current nonce, then increments it. Fails with Errc::limit_exceeded at nonce 2^64-1
  // (reserved by the spec) or when the ciphertext would exceed kMaxMessageSize.
  Result<Bytes> encrypt_with_ad(ByteView ad, ByteView plaintext);
  // Errc::auth_failed if the tag does not verify; the nonce is then NOT advanced.
  Result<Bytes> decrypt_with_ad(ByteView ad, ByteView ciphertext);
  std::uint64_t nonce() const { return nonce_; }
  const Secret<32>& key() const { return key_; }  // for the frame codec, which derives its own subkeys
  // k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros[32]); the nonce is kept (spec 11.3).
  void rekey();

  bool has_key() const { return has_key_; }
  void initialize_key(const Secret<32>& key);
  void set_nonce(std::uint64_t nonce) { nonce_ = nonce; }

 private:
  void forget() {
    key_.wipe();
    nonce_ = 0;
    has_key_ = false;
  }

  Secret<32> key_;
  std::uint64_t nonce_ = 0;
  bool has_key_ = false;
};

}  // namespace samizdat::crypto::noise
