#include "signal_baseline/openssl_crypto_provider.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <stdexcept>
#include <vector>

namespace samizdat::bench::signal_baseline {

struct OpenSslCryptoProvider::Algorithms {
  EVP_MAC* hmac = nullptr;
  // An HMAC context already bound to SHA-256; each init duplicates it and sets only the key.
  EVP_MAC_CTX* hmac_sha256_template = nullptr;
  EVP_MD* sha512 = nullptr;
  // Indexed by key size: 0 = 128, 1 = 192, 2 = 256 bits.
  std::array<EVP_CIPHER*, 3> aes_cbc{};
  std::array<EVP_CIPHER*, 3> aes_ctr{};

  ~Algorithms() {
    EVP_MAC_CTX_free(hmac_sha256_template);
    EVP_MAC_free(hmac);
    EVP_MD_free(sha512);
    for (auto* cipher : aes_cbc) EVP_CIPHER_free(cipher);
    for (auto* cipher : aes_ctr) EVP_CIPHER_free(cipher);
  }

  const EVP_CIPHER* cipher_for(int mode, size_t key_len) const {
    int index = key_len == 16 ? 0 : key_len == 24 ? 1 : key_len == 32 ? 2 : -1;
    if (index < 0) return nullptr;
    if (mode == SG_CIPHER_AES_CBC_PKCS5) return aes_cbc[index];
    if (mode == SG_CIPHER_AES_CTR_NOPADDING) return aes_ctr[index];
    return nullptr;
  }
};

namespace {

using Algorithms = OpenSslCryptoProvider::Algorithms;

Algorithms& algorithms_of(void* user_data) { return *static_cast<Algorithms*>(user_data); }

int random_bytes(uint8_t* data, size_t len, void*) {
  if (len > INT_MAX) return SG_ERR_INVAL;
  return RAND_bytes(data, static_cast<int>(len)) == 1 ? SG_SUCCESS : SG_ERR_UNKNOWN;
}

int hmac_sha256_init(void** hmac_context, const uint8_t* key, size_t key_len, void* user_data) {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(algorithms_of(user_data).hmac_sha256_template);
  if (ctx == nullptr) return SG_ERR_NOMEM;
  if (EVP_MAC_init(ctx, key, key_len, nullptr) != 1) {
    EVP_MAC_CTX_free(ctx);
    return SG_ERR_UNKNOWN;
  }
  *hmac_context = ctx;
  return SG_SUCCESS;
}

int hmac_sha256_update(void* hmac_context, const uint8_t* data, size_t data_len, void*) {
  return EVP_MAC_update(static_cast<EVP_MAC_CTX*>(hmac_context), data, data_len) == 1 ? SG_SUCCESS
                                                                                      : SG_ERR_UNKNOWN;
}

int hmac_sha256_final(void* hmac_context, signal_buffer** output, void*) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  size_t mac_len = 0;
  if (EVP_MAC_final(static_cast<EVP_MAC_CTX*>(hmac_context), mac.data(), &mac_len, mac.size()) != 1) {
    return SG_ERR_UNKNOWN;
  }
  *output = signal_buffer_create(mac.data(), mac_len);
  return *output != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

void hmac_sha256_cleanup(void* hmac_context, void*) {
  EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(hmac_context));
}

int sha512_init(void** digest_context, void* user_data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return SG_ERR_NOMEM;
  if (EVP_DigestInit_ex(ctx, algorithms_of(user_data).sha512, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return SG_ERR_UNKNOWN;
  }
  *digest_context = ctx;
  return SG_SUCCESS;
}

int sha512_update(void* digest_context, const uint8_t* data, size_t data_len, void*) {
  return EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(digest_context), data, data_len) == 1 ? SG_SUCCESS
                                                                                         : SG_ERR_UNKNOWN;
}

int sha512_final(void* digest_context, signal_buffer** output, void* user_data) {
  auto* ctx = static_cast<EVP_MD_CTX*>(digest_context);
  std::array<uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_DigestFinal_ex(ctx, digest.data(), &digest_len) != 1) return SG_ERR_UNKNOWN;
  // The contract asks for the context to be ready for another digest.
  if (EVP_DigestInit_ex(ctx, algorithms_of(user_data).sha512, nullptr) != 1) return SG_ERR_UNKNOWN;
  *output = signal_buffer_create(digest.data(), digest_len);
  return *output != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

void sha512_cleanup(void* digest_context, void*) {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(digest_context));
}

int run_cipher(bool encrypt, signal_buffer** output, int mode, const uint8_t* key, size_t key_len,
               const uint8_t* iv, size_t iv_len, const uint8_t* input, size_t input_len, void* user_data) {
  const EVP_CIPHER* cipher = algorithms_of(user_data).cipher_for(mode, key_len);
  if (cipher == nullptr || iv_len != 16 || input_len > INT_MAX - 32) return SG_ERR_INVAL;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return SG_ERR_NOMEM;
  std::vector<uint8_t> out(input_len + EVP_MAX_BLOCK_LENGTH);
  int len = 0;
  int final_len = 0;
  bool ok = EVP_CipherInit_ex(ctx, cipher, nullptr, key, iv, encrypt ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx, out.data(), &len, input, static_cast<int>(input_len)) == 1 &&
            EVP_CipherFinal_ex(ctx, out.data() + len, &final_len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return SG_ERR_UNKNOWN;
  *output = signal_buffer_create(out.data(), static_cast<size_t>(len + final_len));
  return *output != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

int encrypt(signal_buffer** output, int mode, const uint8_t* key, size_t key_len, const uint8_t* iv,
            size_t iv_len, const uint8_t* plaintext, size_t plaintext_len, void* user_data) {
  return run_cipher(true, output, mode, key, key_len, iv, iv_len, plaintext, plaintext_len, user_data);
}

int decrypt(signal_buffer** output, int mode, const uint8_t* key, size_t key_len, const uint8_t* iv,
            size_t iv_len, const uint8_t* ciphertext, size_t ciphertext_len, void* user_data) {
  return run_cipher(false, output, mode, key, key_len, iv, iv_len, ciphertext, ciphertext_len, user_data);
}

template <typename T>
T* require(T* algorithm, const char* name) {
  if (algorithm == nullptr) throw std::runtime_error(std::string("OpenSSL lacks ") + name);
  return algorithm;
}

}  // namespace

OpenSslCryptoProvider::OpenSslCryptoProvider() : algorithms_(std::make_unique<Algorithms>()) {
  auto& a = *algorithms_;
  a.hmac = require(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "HMAC");
  a.hmac_sha256_template = require(EVP_MAC_CTX_new(a.hmac), "an HMAC context");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(a.hmac_sha256_template, params) != 1) {
    throw std::runtime_error("OpenSSL refused HMAC with SHA-256");
  }
  a.sha512 = require(EVP_MD_fetch(nullptr, "SHA512", nullptr), "SHA512");
  const char* cbc[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
  const char* ctr[] = {"AES-128-CTR", "AES-192-CTR", "AES-256-CTR"};
  for (size_t i = 0; i < 3; ++i) {
    a.aes_cbc[i] = require(EVP_CIPHER_fetch(nullptr, cbc[i], nullptr), cbc[i]);
    a.aes_ctr[i] = require(EVP_CIPHER_fetch(nullptr, ctr[i], nullptr), ctr[i]);
  }
}

OpenSslCryptoProvider::~OpenSslCryptoProvider() = default;

void OpenSslCryptoProvider::install(signal_context* context) {
  signal_crypto_provider provider{};
  provider.random_func = random_bytes;
  provider.hmac_sha256_init_func = hmac_sha256_init;
  provider.hmac_sha256_update_func = hmac_sha256_update;
  provider.hmac_sha256_final_func = hmac_sha256_final;
  provider.hmac_sha256_cleanup_func = hmac_sha256_cleanup;
  provider.sha512_digest_init_func = sha512_init;
  provider.sha512_digest_update_func = sha512_update;
  provider.sha512_digest_final_func = sha512_final;
  provider.sha512_digest_cleanup_func = sha512_cleanup;
  provider.encrypt_func = encrypt;
  provider.decrypt_func = decrypt;
  provider.user_data = algorithms_.get();
  if (signal_context_set_crypto_provider(context, &provider) != SG_SUCCESS) {
    throw std::runtime_error("libsignal-protocol-c refused the OpenSSL crypto provider");
  }
}

}  // namespace samizdat::bench::signal_baseline
