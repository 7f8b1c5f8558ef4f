#include "crypto/e2e/device_registration.hpp"

namespace samizdat::crypto::e2e {
namespace {

Bytes signed_message(const Ed25519Public& identity_key, std::uint32_t device_id,
                     const X25519Public& noise_static_key) {
  Bytes message = to_bytes(kDeviceRegistrationLabel);
  append(message, identity_key);
  append_u32_be(message, device_id);
  append(message, noise_static_key);
  return message;
}

}  // namespace

Ed25519Signature sign_device_registration(const Ed25519KeyPair& identity, std::uint32_t device_id,
                                          const X25519Public& noise_static_key) {
  return identity.sign(signed_message(identity.public_key, device_id, noise_static_key));
}

Status verify_device_registration(const Ed25519Public& identity_key, std::uint32_t device_id,
                                  const X25519Public& noise_static_key, const Ed25519Signature& signature) {
  return ed25519_verify(identity_key, signed_message(identity_key, device_id, noise_static_key), signature);
}

}  // namespace samizdat::crypto::e2e
