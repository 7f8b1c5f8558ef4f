// Device registration proof: what a device's identity key signs so the server binds a
// device id and a Noise static key to the account (session.proto RegisterDevice).
#pragma once

#include <string_view>

#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::server {

inline constexpr std::string_view kRegistrationLabel = "samizdat-register-device-v1";

// label || identity_key || u32be(device_id) || noise_static_key
inline Bytes registration_signing_message(const crypto::Ed25519Public& identity_key, std::uint32_t device_id,
                                          const crypto::X25519Public& noise_static_key) {
  Bytes message = to_bytes(kRegistrationLabel);
  append(message, identity_key);
  std::uint8_t id[4];
  put_u32_be(id, device_id);
  append(message, ByteView(id, 4));
  append(message, noise_static_key);
  return message;
}

// Client side: the signature for RegisterDevice.signature.
inline crypto::Ed25519Signature sign_registration(const crypto::Ed25519KeyPair& identity,
                                                  std::uint32_t device_id,
                                                  const crypto::X25519Public& noise_static_key) {
  return identity.sign(registration_signing_message(identity.public_key, device_id, noise_static_key));
}

// Server side: Errc::auth_failed if the signature is not by identity_key.
inline Status verify_registration(const crypto::Ed25519Public& identity_key, std::uint32_t device_id,
                                  const crypto::X25519Public& noise_static_key,
                                  const crypto::Ed25519Signature& signature) {
  return crypto::ed25519_verify(
      identity_key, registration_signing_message(identity_key, device_id, noise_static_key), signature);
}

}  // namespace samizdat::server
