// The opaque identifier the server stores a device's envelopes under. It is derived from the
// identity key and device id (BLAKE2b-256, domain separated) so it reveals neither directly.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/keys.hpp"

namespace samizdat::crypto::e2e {

using DeviceId = std::uint32_t;
using MailboxId = std::array<std::uint8_t, 32>;

MailboxId mailbox_id(const Ed25519Public& identity_key, DeviceId device_id);

}  // namespace samizdat::crypto::e2e
