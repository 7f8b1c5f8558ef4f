// KeyDirectory: registered devices and their public prekey material. Every byte field
// is opaque here: signatures are verified by the server/client layers, not the store.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "store/envelope.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::store {

using PublicKey = std::array<std::uint8_t, 32>;

struct DeviceRecord {
  MailboxId mailbox{};                // where this device's envelopes queue (unique)
  PublicKey identity_key{};           // the account's Ed25519 identity public key
  std::uint32_t device_id = 0;        // unique per identity
  PublicKey noise_static_key{};       // authenticates the device's transport (unique)
  std::int64_t registered_at_ms = 0;  // set by the store
};

struct SignedPrekey {
  std::uint32_t id = 0;
  Bytes public_key;
  Bytes signature;
};

struct OneTimePrekey {
  std::uint32_t id = 0;
  Bytes public_key;
};

struct PrekeyBundle {
  DeviceRecord device;
  SignedPrekey signed_prekey;
  std::optional<OneTimePrekey> one_time_prekey;  // none when exhausted: still a valid bundle
};

class KeyDirectory {
 public:
  // Callbacks run on the store's writer thread after the transaction is durable (the
  // same rules as MailboxStore's callbacks).
  using DoneCallback = std::function<void(Status)>;
  using CountCallback = std::function<void(Result<std::size_t>)>;
  using BundleCallback = std::function<void(Result<PrekeyBundle>)>;

  virtual ~KeyDirectory() = default;

  // Registers a device, or re-registers it (same mailbox, identity and device id: the
  // Noise static key is replaced). already_exists when the mailbox belongs to another
  // identity/device id, or the Noise static key or (identity, device id) to another mailbox.
  virtual void register_device(DeviceRecord device, DoneCallback done) = 0;

  // Synchronous reads; not_found when there is no such device.
  virtual Result<DeviceRecord> find_device_by_noise_key(const PublicKey& noise_static_key) = 0;
  virtual Result<DeviceRecord> find_device_by_mailbox(const MailboxId& mailbox) = 0;
  // Whether a device is registered at `mailbox`. Devices are never unregistered, so a yes
  // may be answered from memory: the per-envelope check of a send costs no SQLite read.
  virtual Result<bool> is_registered(const MailboxId& mailbox) = 0;
  // Every device of an account, by device id (empty when none).
  virtual Result<std::vector<DeviceRecord>> find_devices_by_identity(const PublicKey& identity_key) = 0;

  // Replaces the device's signed prekey. not_found for an unregistered mailbox.
  virtual void store_signed_prekey(const MailboxId& mailbox, SignedPrekey prekey, DoneCallback done) = 0;

  // Adds one-time prekeys (an id already stored is replaced); `done` gets how many the
  // mailbox now holds. limit_exceeded past StoreLimits::max_one_time_prekeys (none added).
  virtual void add_one_time_prekeys(const MailboxId& mailbox, std::vector<OneTimePrekey> prekeys,
                                    CountCallback done) = 0;

  // The device, its signed prekey and ONE one-time prekey, which is removed in the same
  // transaction so it is handed out exactly once. not_found without device or signed prekey.
  virtual void take_prekey_bundle(const MailboxId& mailbox, BundleCallback done) = 0;

  // One-time prekeys left for `mailbox` (so clients top up when low).
  virtual Result<std::size_t> count_one_time_prekeys(const MailboxId& mailbox) = 0;
};

}  // namespace samizdat::store
