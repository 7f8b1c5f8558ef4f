// The account database: one SQLite file per account (HOME/account.db) holding the
// identity, contacts, own prekeys, ratchet sessions, history, outbox and the ids of
// messages already seen. Secrets (identity and device keys, prekey secrets, ratchet
// state) are sealed with the AtRestKey before they reach the disk; see at_rest_key.hpp.
//
// Callers group writes in a store::sqlite::Transaction (transaction()) so, for example, a ratchet
// step, the decrypted message and the receipt it triggers commit together.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/account_settings.hpp"
#include "client/at_rest_key.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "crypto/e2e/ratchet_session.hpp"
#include "crypto/keys.hpp"
#include "store/sqlite/connection.hpp"
#include "util/result.hpp"

namespace samizdat::client {

using crypto::Ed25519Public;
using crypto::e2e::DeviceId;
using crypto::e2e::MailboxId;
using store::sqlite::Durability;

inline constexpr std::string_view kDatabaseFileName = "account.db";
inline constexpr std::string_view kKeyFileName = "account.key";

// Values match proto/samizdat/store.proto MessageDirection / MessageState.
enum class Direction : int { incoming = 1, outgoing = 2 };
enum class MessageState : int { queued = 1, sent = 2, delivered = 3, read = 4, failed = 5 };
std::string_view to_string(MessageState state);

struct ContactRecord {
  Ed25519Public identity_key{};
  std::string name;  // empty for someone who wrote first and was not named yet
  DeviceId device_id = 1;
  std::int64_t added_at_ms = 0;
  std::int64_t last_activity_ms = 0;
  bool verified = false;

  MailboxId mailbox() const { return crypto::e2e::mailbox_id(identity_key, device_id); }
};

struct MessageRecord {
  std::int64_t local_id = 0;  // order of arrival in this database
  Bytes message_id;           // 16 bytes, chosen by the sender
  Ed25519Public contact{};
  Direction direction = Direction::incoming;
  MessageState state = MessageState::queued;
  std::string body;
  std::int64_t sent_at_ms = 0;   // sender's clock
  std::int64_t local_at_ms = 0;  // received (incoming) or written (outgoing), local clock
  std::int64_t state_changed_at_ms = 0;
  std::string failure_reason;
};

struct OutboxRecord {
  std::int64_t id = 0;
  Bytes message_id;  // empty for control traffic (receipts)
  Ed25519Public contact{};
  MailboxId mailbox{};
  Bytes content;  // serialized MessageContent while not yet sealed; empty after
  Bytes sealed;   // the envelope ciphertext once sealed; resent byte for byte
  std::int64_t created_at_ms = 0;
  std::uint32_t attempts = 0;
  std::int64_t expires_at_ms = 0;
};

struct StoreOptions {
  std::filesystem::path home;
  std::optional<std::string> passphrase;
  Durability durability = Durability::full;
};

class AccountStore {
 public:
  // Creates HOME (mode 0700) and a fresh database and key. Errc::already_exists if HOME
  // already holds an account.
  static Result<std::unique_ptr<AccountStore>> create(const StoreOptions& options);
  // Opens an existing account. Errc::not_found ("no account in HOME: run samizdat init")
  // when there is none; Errc::auth_failed for a wrong passphrase or key file.
  static Result<std::unique_ptr<AccountStore>> open(const StoreOptions& options);
  static bool exists(const std::filesystem::path& home);

  store::sqlite::Connection& database() { return *db_; }
  Result<store::sqlite::Transaction> transaction() { return store::sqlite::Transaction::begin(*db_); }
  const AtRestKeyParams& key_params() const { return key_params_; }
  const std::filesystem::path& home() const { return home_; }

  // Settings (account_settings.hpp): `store.get(settings::device_id)`. Absent ones give
  // std::nullopt; a stored value that is not of the setting's type, Errc::storage.
  template <class T>
  Result<std::optional<T>> get(const Setting<T>& setting);
  template <class T>
  Status put(const Setting<T>& setting, const SettingInput<T>& value) {
    return put_meta(setting.key, encode_setting<T>(value));
  }
  // Secrets, sealed under the at-rest key with the setting's name as the label.
  Result<std::optional<crypto::SecretBytes>> get(const SecretSetting& secret);
  Status put(const SecretSetting& secret, ByteView value);

  // Contacts.
  Status put_contact(const ContactRecord& contact);  // insert or replace
  Result<std::optional<ContactRecord>> contact_by_name(std::string_view name);
  Result<std::optional<ContactRecord>> contact_by_identity(const Ed25519Public& identity_key);
  Result<std::vector<ContactRecord>> contacts();  // most recently active first
  Status touch_contact(const Ed25519Public& identity_key, std::int64_t now_ms);

  // Own prekeys (secrets sealed).
  Status put_signed_prekey(const crypto::e2e::SignedPreKey& prekey, std::int64_t now_ms);
  Result<std::optional<crypto::e2e::SignedPreKey>> signed_prekey(crypto::e2e::PreKeyId id);
  Status put_one_time_prekeys(const std::vector<crypto::e2e::OneTimePreKey>& prekeys, std::int64_t now_ms);
  Result<std::optional<crypto::e2e::OneTimePreKey>> one_time_prekey(crypto::e2e::PreKeyId id);
  Status delete_one_time_prekey(crypto::e2e::PreKeyId id);
  Result<std::int64_t> count_one_time_prekeys();

  // Ratchet sessions per contact device (mailbox). Several may exist when both sides
  // started one at once; the most recently stored is the one to encrypt with.
  Status put_session(const MailboxId& mailbox, const crypto::e2e::RatchetSession& session,
                     std::int64_t now_ms);
  Result<std::optional<crypto::e2e::RatchetSession>> current_session(const MailboxId& mailbox);
  // Every session of the mailbox, most recent first.
  Result<std::vector<crypto::e2e::RatchetSession>> sessions(const MailboxId& mailbox);

  // History. insert_message returns false (and changes nothing) if a message with the
  // same (contact, direction, message_id) is already stored: redeliveries are dropped.
  Result<bool> insert_message(const MessageRecord& message);
  // Raises outgoing messages to `state` (never lowers it). Only messages to `contact`.
  Status advance_outgoing_state(const Ed25519Public& contact, ByteView message_id, MessageState state,
                                std::int64_t now_ms);
  Status set_message_state(const Ed25519Public& contact, Direction direction, ByteView message_id,
                           MessageState state, std::int64_t now_ms, std::string_view failure_reason = {});
  Result<std::vector<MessageRecord>> history(const Ed25519Public& contact, std::size_t limit);
  // Incoming messages not yet shown to the user, in arrival order.
  Result<std::vector<MessageRecord>> unread_incoming();

  // Outbox.
  Result<std::int64_t> enqueue(const OutboxRecord& entry);
  Result<std::vector<OutboxRecord>> outbox();  // in queue order
  Result<std::int64_t> outbox_size();
  Status set_sealed(std::int64_t outbox_id, ByteView sealed);
  Status note_attempt(std::int64_t outbox_id);
  Status remove_from_outbox(std::int64_t outbox_id);

  ~AccountStore();

 private:
  AccountStore() = default;
  static Result<std::unique_ptr<AccountStore>> open_database(const StoreOptions& options, bool create);
  Status create_schema();
  // The meta table by raw key: only through the typed settings above.
  Status put_meta(std::string_view key, ByteView value);
  Result<std::optional<Bytes>> meta(std::string_view key);

  std::filesystem::path home_;
  std::unique_ptr<store::sqlite::Connection> db_;
  std::optional<AtRestKey> key_;
  AtRestKeyParams key_params_;
};

// The contact's name, else their grouped address (what logs and the user see).
std::string display_name(AccountStore& store, const Ed25519Public& identity_key);

template <class T>
Result<std::optional<T>> AccountStore::get(const Setting<T>& setting) {
  auto stored = SZ_TRY(meta(setting.key));
  if (!stored) return std::optional<T>{};
  auto value = decode_setting<T>(*stored);
  if (!value) {
    return make_error(Errc::storage,
                      "the account database setting '" + std::string(setting.key) + "' is damaged");
  }
  return value;
}

}  // namespace samizdat::client
