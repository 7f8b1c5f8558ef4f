#include "crypto/keys.hpp"

namespace samizdat::crypto {

X25519KeyPair X25519KeyPair::generate() {
  ensure_initialized();
  X25519KeyPair pair;
  fill_random(pair.secret_key.mutable_view());
  crypto_scalarmult_curve25519_base(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

X25519KeyPair X25519KeyPair::from_secret(ByteView secret_key) {
  ensure_initialized();
  X25519KeyPair pair;
  pair.secret_key = Secret<32>(secret_key);
  crypto_scalarmult_curve25519_base(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Result<Secret<32>> x25519(const Secret<32>& secret_key, const X25519Public& public_key) {
  Secret<32> shared;
  if (crypto_scalarmult_curve25519(shared.data(), secret_key.data(), public_key.data()) != 0) {
    return make_error(Errc::auth_failed, "X25519 with a low-order public key");
  }
  return shared;
}

Ed25519KeyPair Ed25519KeyPair::generate() {
  ensure_initialized();
  Ed25519KeyPair pair;
  crypto_sign_ed25519_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Ed25519KeyPair Ed25519KeyPair::from_seed(ByteView seed32) {
  ensure_initialized();
  if (seed32.size() != crypto_sign_ed25519_SEEDBYTES) std::abort();  // programmer error
  Ed25519KeyPair pair;
  crypto_sign_ed25519_seed_keypair(pair.public_key.data(), pair.secret_key.data(), seed32.data());
  return pair;
}

Ed25519KeyPair Ed25519KeyPair::clone() const {
  Ed25519KeyPair pair;
  pair.secret_key = secret_key.clone();
  pair.public_key = public_key;
  return pair;
}

Ed25519Signature Ed25519KeyPair::sign(ByteView message) const {
  Ed25519Signature signature{};
  crypto_sign_ed25519_detached(signature.data(), nullptr, message.data(), message.size(), secret_key.data());
  return signature;
}

X25519KeyPair Ed25519KeyPair::to_x25519() const {
  Secret<32> x_secret;
  crypto_sign_ed25519_sk_to_curve25519(x_secret.data(), secret_key.data());
  return X25519KeyPair::from_secret(x_secret.view());
}

Status ed25519_verify(const Ed25519Public& public_key, ByteView message, const Ed25519Signature& signature) {
  ensure_initialized();
  if (crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(),
                                          public_key.data()) != 0) {
    return make_error(Errc::auth_failed, "Ed25519 signature did not verify");
  }
  return {};
}

Result<X25519Public> ed25519_public_to_x25519(const Ed25519Public& public_key) {
  X25519Public out{};
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), public_key.data()) != 0) {
    return make_error(Errc::malformed, "not a valid Ed25519 public key");
  }
  return out;
}

}  // namespace samizdat::crypto
