// Device registration proof (session.proto RegisterDevice): the account's identity key signs
// the binding of a device id to that device's Noise static key, so the server accepts a
// device key only from the account's owner. The client signs, the server verifies.
//
//   signed message = "samizdat-register-device-v1" || identity_key(32) || u32be(device_id)
//                    || noise_static_key(32)
#pragma once

#include <cstdint>
#include <string_view>

#include "crypto/keys.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr std::string_view kDeviceRegistrationLabel = "samizdat-register-device-v1";

// The signature for RegisterDevice.signature.
Ed25519Signature sign_device_registration(const Ed25519KeyPair& identity, std::uint32_t device_id,
                                          const X25519Public& noise_static_key);

// Errc::auth_failed if `signature` is not identity_key's over exactly this binding.
Status verify_device_registration(const Ed25519Public& identity_key, std::uint32_t device_id,
                                  const X25519Public& noise_static_key, const Ed25519Signature& signature);

}  // namespace samizdat::crypto::e2e
