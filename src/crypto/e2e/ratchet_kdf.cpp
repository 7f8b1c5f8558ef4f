#include "crypto/e2e/ratchet_kdf.hpp"

#include <sodium.h>

#include <string_view>

#include "crypto/e2e/hkdf.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::string_view kRootInfo = "Samizdat_Ratchet_v1";
constexpr std::string_view kMessageKeyInfo = "Samizdat_MessageKeys_v1";
constexpr std::size_t kKeySize = crypto_aead_chacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kNonceSize = crypto_aead_chacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagSize = crypto_aead_chacha20poly1305_ietf_ABYTES;

Secret<kKeySize + kNonceSize> expand_message_key(const Secret<32>& message_key) {
  Secret<kKeySize + kNonceSize> out;
  hkdf_sha256({}, message_key.view(), as_bytes(kMessageKeyInfo), out.mutable_view());
  return out;
}

}  // namespace

RootStep kdf_root(const Secret<32>& root_key, const Secret<32>& dh_out) {
  Secret<64> out;
  hkdf_sha256(root_key.view(), dh_out.view(), as_bytes(kRootInfo), out.mutable_view());
  return {Secret<32>(out.view().first(32)), Secret<32>(out.view().subspan(32))};
}

ChainStep kdf_chain(const Secret<32>& chain_key) {
  static constexpr std::uint8_t kMessageConstant = 0x01;
  static constexpr std::uint8_t kChainConstant = 0x02;
  // Both outputs are HMACs under the same key: key the state once and copy it.
  crypto_auth_hmacsha256_state keyed, state;
  crypto_auth_hmacsha256_init(&keyed, chain_key.data(), chain_key.size());
  ChainStep step;
  state = keyed;
  crypto_auth_hmacsha256_update(&state, &kChainConstant, 1);
  crypto_auth_hmacsha256_final(&state, step.chain_key.data());
  state = keyed;
  crypto_auth_hmacsha256_update(&state, &kMessageConstant, 1);
  crypto_auth_hmacsha256_final(&state, step.message_key.data());
  sodium_memzero(&keyed, sizeof keyed);
  sodium_memzero(&state, sizeof state);
  return step;
}

void seal_with_message_key(const Secret<32>& message_key, ByteView associated_data, ByteView plaintext,
                           Bytes& out) {
  auto key_nonce = expand_message_key(message_key);
  std::size_t offset = out.size();
  out.resize(offset + plaintext.size() + kTagSize);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + offset, &written, plaintext.data(), plaintext.size(),
                                            associated_data.data(), associated_data.size(), nullptr,
                                            key_nonce.data() + kKeySize, key_nonce.data());
  out.resize(offset + written);
}

Result<Bytes> open_with_message_key(const Secret<32>& message_key, ByteView associated_data,
                                    ByteView ciphertext) {
  if (ciphertext.size() < kTagSize) return make_error(Errc::malformed, "ciphertext is shorter than its tag");
  auto key_nonce = expand_message_key(message_key);
  Bytes plaintext(ciphertext.size() - kTagSize);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          plaintext.data(), &written, nullptr, ciphertext.data(), ciphertext.size(), associated_data.data(),
          associated_data.size(), key_nonce.data() + kKeySize, key_nonce.data()) != 0) {
    return make_error(Errc::auth_failed,
                      "message did not authenticate: it was tampered with or is not for this session");
  }
  plaintext.resize(written);
  return plaintext;
}

}  // namespace samizdat::crypto::e2e
