// Noise SymmetricState (spec rev. 34, section 5.2) over BLAKE2b (HASHLEN 64):
// chaining key, handshake hash and the CipherState they key.
#pragma once

#include <array>
#include <string_view>
#include <utility>

#include "crypto/noise/cipher_state.hpp"
#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::noise {

inline constexpr std::size_t kHashLen = 64;
inline constexpr std::size_t kDhLen = 32;

class SymmetricState {
 public:
  void initialize(std::string_view protocol_name);
  void mix_key(ByteView input_key_material);
  void mix_hash(ByteView data);
  void mix_key_and_hash(ByteView input_key_material);
  Result<Bytes> encrypt_and_hash(ByteView plaintext);
  // On failure h is unchanged (the caller abandons the handshake anyway).
  Result<Bytes> decrypt_and_hash(ByteView ciphertext);
  std::pair<CipherState, CipherState> split() const;

  bool has_key() const { return cipher_.has_key(); }
  ByteView handshake_hash() const { return {h_.data(), h_.size()}; }
  // Drops ck and k once the handshake is over; h stays for channel binding.
  void wipe_keys();

 private:
  Secret<kHashLen> ck_;
  std::array<std::uint8_t, kHashLen> h_{};
  CipherState cipher_;
};

}  // namespace samizdat::crypto::noise
