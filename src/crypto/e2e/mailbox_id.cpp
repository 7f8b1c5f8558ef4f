#include "crypto/e2e/mailbox_id.hpp"

#include <sodium.h>

#include <string_view>

namespace samizdat::crypto::e2e {

MailboxId mailbox_id(const Ed25519Public& identity_key, DeviceId device_id) {
  ensure_initialized();
  static constexpr std::string_view kDomain = "Samizdat_Mailbox_v1";
  std::uint8_t device[4];
  put_u32_be(device, device_id);
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, 32);
  crypto_generichash_blake2b_update(&state, reinterpret_cast<const std::uint8_t*>(kDomain.data()),
                                    kDomain.size());
  crypto_generichash_blake2b_update(&state, identity_key.data(), identity_key.size());
  crypto_generichash_blake2b_update(&state, device, sizeof device);
  MailboxId out{};
  crypto_generichash_blake2b_final(&state, out.data(), out.size());
  return out;
}

}  // namespace samizdat::crypto::e2e
