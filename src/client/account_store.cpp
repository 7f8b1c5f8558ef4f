#include "client/account_store.hpp"

#include <sys/stat.h>

#include <system_error>

#include "crypto/e2e/address.hpp"
#include "util/encoding.hpp"

namespace samizdat::client {
namespace {

namespace fs = std::filesystem;
constexpr int kSchemaVersion = 1;
// Sealed as settings::key_check at creation, checked at open: a wrong key fails there with a
// clear message, not later on a session.
constexpr std::string_view kKeyCheckValue = "samizdat account key check";

constexpr std::string_view kSchema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE contacts (
  identity_key     BLOB PRIMARY KEY,
  name             TEXT UNIQUE,          -- NULL until the user names a stranger who wrote first
  device_id        INTEGER NOT NULL,
  added_at_ms      INTEGER NOT NULL,
  last_activity_ms INTEGER NOT NULL,
  verified         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE signed_prekeys (
  id          INTEGER PRIMARY KEY,
  secret      BLOB NOT NULL,             -- sealed
  signature   BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE one_time_prekeys (
  id          INTEGER PRIMARY KEY,
  secret      BLOB NOT NULL,             -- sealed
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE sessions (
  mailbox     BLOB NOT NULL,
  base_key    BLOB NOT NULL,
  state       BLOB NOT NULL,             -- sealed RatchetSession::serialize()
  seq         INTEGER NOT NULL,          -- larger = more recently used
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (mailbox, base_key)
);
CREATE TABLE messages (
  local_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id  BLOB NOT NULL,
  contact     BLOB NOT NULL,
  direction   INTEGER NOT NULL,
  state       INTEGER NOT NULL,
  body        TEXT NOT NULL,
  sent_at_ms  INTEGER NOT NULL,
  local_at_ms INTEGER NOT NULL,
  state_changed_at_ms INTEGER NOT NULL,
  failure_reason TEXT NOT NULL DEFAULT '',
  UNIQUE (contact, direction, message_id)  -- the seen-ids check for redeliveries
);
CREATE INDEX messages_by_contact ON messages (contact, local_id);
CREATE INDEX messages_unread ON messages (direction, state);
CREATE TABLE outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id  BLOB NOT NULL,
  contact     BLOB NOT NULL,
  mailbox     BLOB NOT NULL,
  content     BLOB NOT NULL,
  sealed      BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  expires_at_ms INTEGER NOT NULL
);
)sql";

std::string session_label(const MailboxId& mailbox, ByteView base_key) {
  return "session:" + hex_encode(mailbox) + ":" + hex_encode(base_key);
}

template <std::size_t N>
std::array<std::uint8_t, N> fixed(const Bytes& bytes) {
  std::array<std::uint8_t, N> out{};
  if (bytes.size() == N) std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

ContactRecord read_contact(const store::sqlite::Statement& stmt) {
  ContactRecord c;
  c.identity_key = fixed<32>(stmt.column_bytes(0));
  c.name = stmt.column_text(1);
  c.device_id = static_cast<DeviceId>(stmt.column_int64(2));
  c.added_at_ms = stmt.column_int64(3);
  c.last_activity_ms = stmt.column_int64(4);
  c.verified = stmt.column_int64(5) != 0;
  return c;
}
constexpr std::string_view kContactColumns =
    "SELECT identity_key, name, device_id, added_at_ms, last_activity_ms, verified FROM contacts ";

MessageRecord read_message(const store::sqlite::Statement& stmt) {
  MessageRecord m;
  m.local_id = stmt.column_int64(0);
  m.message_id = stmt.column_bytes(1);
  m.contact = fixed<32>(stmt.column_bytes(2));
  m.direction = static_cast<Direction>(stmt.column_int64(3));
  m.state = static_cast<MessageState>(stmt.column_int64(4));
  m.body = stmt.column_text(5);
  m.sent_at_ms = stmt.column_int64(6);
  m.local_at_ms = stmt.column_int64(7);
  m.state_changed_at_ms = stmt.column_int64(8);
  m.failure_reason = stmt.column_text(9);
  return m;
}
constexpr std::string_view kMessageColumns =
    "SELECT local_id, message_id, contact, direction, state, body, sent_at_ms, local_at_ms, "
    "state_changed_at_ms, failure_reason FROM messages ";

Result<std::unique_ptr<store::sqlite::Connection>> open_connection(const fs::path& file, bool create,
                                                                   Durability durability) {
  auto db = SZ_TRY(store::sqlite::Connection::open(file, create));
  // Two commands on one account wait for each other instead of failing at once.
  SZ_CHECK(db->exec("PRAGMA busy_timeout = 10000", "setting the busy timeout"));
  // WAL: readers never block the writer. With Durability::full every commit fsyncs the
  // log, so a committed ratchet step survives power loss before we ack it.
  SZ_TRY(db->enable_wal(durability));
  SZ_CHECK(db->exec("PRAGMA foreign_keys = ON", "enabling foreign keys"));
  return db;
}

}  // namespace

std::string_view to_string(MessageState state) {
  switch (state) {
    case MessageState::queued:
      return "queued";
    case MessageState::sent:
      return "sent";
    case MessageState::delivered:
      return "delivered";
    case MessageState::read:
      return "read";
    case MessageState::failed:
      return "failed";
  }
  return "unknown";
}

bool AccountStore::exists(const fs::path& home) {
  std::error_code ec;
  return fs::exists(home / kDatabaseFileName, ec);
}

AccountStore::~AccountStore() = default;

Result<std::unique_ptr<AccountStore>> AccountStore::create(const StoreOptions& options) {
  if (exists(options.home)) {
    return make_error(Errc::already_exists, "an account already exists in " + options.home.string() +
                                                ": use it, or pick another --home");
  }
  std::error_code ec;
  fs::create_directories(options.home, ec);
  if (ec) {
    return make_error(Errc::io,
                      "cannot create the home directory " + options.home.string() + ": " + ec.message());
  }
  ::chmod(options.home.c_str(), 0700);
  // The key first: if it cannot be made, no half-created database is left behind.
  AtRestKeyParams params;
  auto key = SZ_TRY(AtRestKey::create(options.home / kKeyFileName, options.passphrase, params));
  auto store = SZ_TRY(open_database(options, /*create=*/true));
  store->key_.emplace(std::move(key));
  store->key_params_ = params;
  SZ_CHECK(store->create_schema());
  return store;
}

Result<std::unique_ptr<AccountStore>> AccountStore::open(const StoreOptions& options) {
  if (!exists(options.home)) {
    return make_error(Errc::not_found, "no account in " + options.home.string() +
                                           ": run `samizdat init --bootstrap ...` first");
  }
  auto store = SZ_TRY(open_database(options, /*create=*/false));
  auto version = SZ_TRY(store->get(settings::schema_version));
  if (!version)
    return make_error(Errc::storage, "the account database has no schema: it was never finished; remove " +
                                         options.home.string() + " and run init again");
  if (*version > kSchemaVersion) {
    return make_error(Errc::storage, "the account database was written by a newer samizdat (schema " +
                                         std::to_string(*version) + "): upgrade samizdat");
  }
  AtRestKeyParams params;
  params.source = SZ_TRY(store->get(settings::key_source)).value_or(KeySource::key_file);
  params.salt = SZ_TRY(store->get(settings::key_salt)).value_or(Bytes{});
  params.opslimit = SZ_TRY(store->get(settings::key_opslimit)).value_or(0);
  params.memlimit = SZ_TRY(store->get(settings::key_memlimit)).value_or(0);
  auto key = SZ_TRY(AtRestKey::load(options.home / kKeyFileName, options.passphrase, params));
  store->key_.emplace(std::move(key));
  store->key_params_ = params;
  auto check = SZ_TRY(store->get(settings::key_check));
  if (!check || as_chars(check->view()) != kKeyCheckValue) {
    return make_error(Errc::auth_failed, "the account database does not open with this key");
  }
  return store;
}

Result<std::unique_ptr<AccountStore>> AccountStore::open_database(const StoreOptions& options, bool create) {
  std::unique_ptr<AccountStore> store(new AccountStore);
  store->home_ = options.home;
  const auto file = options.home / kDatabaseFileName;
  auto opened = open_connection(file, create, options.durability);
  if (!opened.ok()) {
    return make_error(Errc::storage,
                      "cannot open the account database " + file.string() + ": " + opened.error().message);
  }
  store->db_ = std::move(*opened);
  return store;
}

Status AccountStore::create_schema() {
  auto tx = SZ_TRY(transaction());
  SZ_CHECK(db_->exec(kSchema, "creating the account database"));
  SZ_CHECK(put(settings::schema_version, kSchemaVersion));
  SZ_CHECK(put(settings::key_source, key_params_.source));
  if (key_params_.source == KeySource::passphrase) {
    SZ_CHECK(put(settings::key_salt, key_params_.salt));
    SZ_CHECK(put(settings::key_opslimit, key_params_.opslimit));
    SZ_CHECK(put(settings::key_memlimit, key_params_.memlimit));
  }
  SZ_CHECK(put(settings::key_check, as_bytes(kKeyCheckValue)));
  return tx.commit();
}

// ---- meta ----------------------------------------------------------------------

Status AccountStore::put_meta(std::string_view key, ByteView value) {
  auto stmt = SZ_TRY(db_->prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"));
  stmt->bind_text(1, key).bind(2, value);
  return stmt->run("writing an account setting");
}

Result<std::optional<Bytes>> AccountStore::meta(std::string_view key) {
  // The meta table may not exist yet while a new database is being created.
  auto prepared = db_->prepare("SELECT value FROM meta WHERE key = ?");
  if (!prepared.ok()) return std::optional<Bytes>{};
  auto stmt = std::move(prepared).value();
  stmt->bind_text(1, key);
  if (!SZ_TRY(stmt->step("reading an account setting"))) return std::optional<Bytes>{};
  return std::optional<Bytes>{stmt->column_bytes(0)};
}

Status AccountStore::put(const SecretSetting& secret, ByteView value) {
  return put_meta("secret:" + std::string(secret.name), key_->seal(value, secret.name));
}

Result<std::optional<crypto::SecretBytes>> AccountStore::get(const SecretSetting& secret) {
  auto sealed = SZ_TRY(meta("secret:" + std::string(secret.name)));
  if (!sealed) return std::optional<crypto::SecretBytes>{};
  auto opened = SZ_TRY(key_->open(*sealed, secret.name));
  return std::optional<crypto::SecretBytes>{std::move(opened)};
}

// ---- contacts ------------------------------------------------------------------

Status AccountStore::put_contact(const ContactRecord& c) {
  auto stmt =
      SZ_TRY(db_->prepare("INSERT OR REPLACE INTO contacts (identity_key, name, device_id, added_at_ms, "
                          "last_activity_ms, verified) "
                          "VALUES (?, ?, ?, ?, ?, ?)"));
  stmt->bind(1, c.identity_key);
  if (c.name.empty()) {
    stmt->bind_null(2);
  } else {
    stmt->bind_text(2, c.name);
  }
  stmt->bind(3, c.device_id).bind(4, c.added_at_ms).bind(5, c.last_activity_ms).bind(6, c.verified ? 1 : 0);
  return stmt->run("storing a contact");
}

Result<std::optional<ContactRecord>> AccountStore::contact_by_name(std::string_view name) {
  auto stmt = SZ_TRY(db_->prepare(std::string(kContactColumns) + "WHERE name = ?"));
  stmt->bind_text(1, name);
  if (!SZ_TRY(stmt->step("looking up a contact"))) return std::optional<ContactRecord>{};
  return std::optional<ContactRecord>{read_contact(*stmt)};
}

Result<std::optional<ContactRecord>> AccountStore::contact_by_identity(const Ed25519Public& identity_key) {
  auto stmt = SZ_TRY(db_->prepare(std::string(kContactColumns) + "WHERE identity_key = ?"));
  stmt->bind(1, identity_key);
  if (!SZ_TRY(stmt->step("looking up a contact"))) return std::optional<ContactRecord>{};
  return std::optional<ContactRecord>{read_contact(*stmt)};
}

Result<std::vector<ContactRecord>> AccountStore::contacts() {
  auto stmt = SZ_TRY(db_->prepare(std::string(kContactColumns) + "ORDER BY last_activity_ms DESC, name"));
  std::vector<ContactRecord> out;
  while (SZ_TRY(stmt->step("listing contacts"))) out.push_back(read_contact(*stmt));
  return out;
}

Status AccountStore::touch_contact(const Ed25519Public& identity_key, std::int64_t now_ms) {
  auto stmt = SZ_TRY(
      db_->prepare("UPDATE contacts SET last_activity_ms = max(last_activity_ms, ?) WHERE identity_key = ?"));
  stmt->bind(1, now_ms).bind(2, identity_key);
  return stmt->run("updating a contact");
}

std::string display_name(AccountStore& store, const Ed25519Public& identity_key) {
  auto contact = store.contact_by_identity(identity_key);
  if (contact.ok() && *contact && !(*contact)->name.empty()) return (*contact)->name;
  return crypto::e2e::Address::from_identity(identity_key).to_string();
}

// ---- prekeys -------------------------------------------------------------------

Status AccountStore::put_signed_prekey(const crypto::e2e::SignedPreKey& prekey, std::int64_t now_ms) {
  auto stmt = SZ_TRY(db_->prepare(
      "INSERT OR REPLACE INTO signed_prekeys (id, secret, signature, created_at_ms) VALUES (?, ?, ?, ?)"));
  stmt->bind(1, prekey.id)
      .bind(2, key_->seal(prekey.key_pair.secret_key.view(), "spk:" + std::to_string(prekey.id)))
      .bind(3, prekey.signature)
      .bind(4, now_ms);
  return stmt->run("storing a signed prekey");
}

Result<std::optional<crypto::e2e::SignedPreKey>> AccountStore::signed_prekey(crypto::e2e::PreKeyId id) {
  auto stmt = SZ_TRY(db_->prepare("SELECT secret, signature FROM signed_prekeys WHERE id = ?"));
  stmt->bind(1, id);
  if (!SZ_TRY(stmt->step("reading a signed prekey"))) return std::optional<crypto::e2e::SignedPreKey>{};
  auto secret = SZ_TRY(key_->open(stmt->column_bytes(0), "spk:" + std::to_string(id)));
  auto signature = SZ_TRY(crypto::to_array<64>(stmt->column_bytes(1)));
  if (secret.size() != 32)
    return make_error(Errc::storage, "a signed prekey in the account database is damaged");
  return std::optional<crypto::e2e::SignedPreKey>{
      crypto::e2e::SignedPreKey::from_parts(id, secret.view(), signature)};
}

Status AccountStore::put_one_time_prekeys(const std::vector<crypto::e2e::OneTimePreKey>& prekeys,
                                          std::int64_t now_ms) {
  for (const auto& prekey : prekeys) {
    auto stmt = SZ_TRY(
        db_->prepare("INSERT OR REPLACE INTO one_time_prekeys (id, secret, created_at_ms) VALUES (?, ?, ?)"));
    stmt->bind(1, prekey.id)
        .bind(2, key_->seal(prekey.key_pair.secret_key.view(), "opk:" + std::to_string(prekey.id)))
        .bind(3, now_ms);
    SZ_CHECK(stmt->run("storing one-time prekeys"));
  }
  return {};
}

Result<std::optional<crypto::e2e::OneTimePreKey>> AccountStore::one_time_prekey(crypto::e2e::PreKeyId id) {
  auto stmt = SZ_TRY(db_->prepare("SELECT secret FROM one_time_prekeys WHERE id = ?"));
  stmt->bind(1, id);
  if (!SZ_TRY(stmt->step("reading a one-time prekey"))) return std::optional<crypto::e2e::OneTimePreKey>{};
  auto secret = SZ_TRY(key_->open(stmt->column_bytes(0), "opk:" + std::to_string(id)));
  if (secret.size() != 32)
    return make_error(Errc::storage, "a one-time prekey in the account database is damaged");
  return std::optional<crypto::e2e::OneTimePreKey>{crypto::e2e::OneTimePreKey::from_parts(id, secret.view())};
}

Status AccountStore::delete_one_time_prekey(crypto::e2e::PreKeyId id) {
  auto stmt = SZ_TRY(db_->prepare("DELETE FROM one_time_prekeys WHERE id = ?"));
  stmt->bind(1, id);
  return stmt->run("deleting a one-time prekey");
}

Result<std::int64_t> AccountStore::count_one_time_prekeys() {
  auto stmt = SZ_TRY(db_->prepare("SELECT count(*) FROM one_time_prekeys"));
  SZ_TRY(stmt->step("counting one-time prekeys"));
  return stmt->column_int64(0);
}

// ---- sessions ------------------------------------------------------------------

Status AccountStore::put_session(const MailboxId& mailbox, const crypto::e2e::RatchetSession& session,
                                 std::int64_t now_ms) {
  auto state = session.serialize();
  auto stmt = SZ_TRY(
      db_->prepare("INSERT OR REPLACE INTO sessions (mailbox, base_key, state, seq, updated_at_ms) VALUES "
                   "(?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM sessions), ?)"));
  stmt->bind(1, mailbox)
      .bind(2, session.base_key())
      .bind(3, key_->seal(state.view(), session_label(mailbox, session.base_key())))
      .bind(4, now_ms);
  return stmt->run("storing a ratchet session");
}

Result<std::optional<crypto::e2e::RatchetSession>> AccountStore::current_session(const MailboxId& mailbox) {
  auto all = SZ_TRY(sessions(mailbox));
  if (all.empty()) return std::optional<crypto::e2e::RatchetSession>{};
  return std::optional<crypto::e2e::RatchetSession>{std::move(all.front())};
}

Result<std::vector<crypto::e2e::RatchetSession>> AccountStore::sessions(const MailboxId& mailbox) {
  auto stmt =
      SZ_TRY(db_->prepare("SELECT base_key, state FROM sessions WHERE mailbox = ? ORDER BY seq DESC"));
  stmt->bind(1, mailbox);
  std::vector<crypto::e2e::RatchetSession> out;
  while (SZ_TRY(stmt->step("reading ratchet sessions"))) {
    auto state = SZ_TRY(key_->open(stmt->column_bytes(1), session_label(mailbox, stmt->column_bytes(0))));
    auto session = crypto::e2e::RatchetSession::deserialize(state.view());
    if (!session.ok()) {
      return make_error(Errc::storage,
                        "a ratchet session in the account database is damaged: " + session.error().message);
    }
    out.push_back(std::move(*session));
  }
  return out;
}

// ---- messages ------------------------------------------------------------------

Result<bool> AccountStore::insert_message(const MessageRecord& m) {
  auto stmt = SZ_TRY(db_->prepare(
      "INSERT OR IGNORE INTO messages (message_id, contact, direction, state, body, sent_at_ms, local_at_ms, "
      "state_changed_at_ms, failure_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt->bind(1, m.message_id)
      .bind(2, m.contact)
      .bind(3, static_cast<int>(m.direction))
      .bind(4, static_cast<int>(m.state))
      .bind_text(5, m.body)
      .bind(6, m.sent_at_ms)
      .bind(7, m.local_at_ms)
      .bind(8, m.state_changed_at_ms)
      .bind_text(9, m.failure_reason);
  SZ_CHECK(stmt->run("storing a message"));
  return db_->changes() == 1;
}

Status AccountStore::advance_outgoing_state(const Ed25519Public& contact, ByteView message_id,
                                            MessageState state, std::int64_t now_ms) {
  auto stmt = SZ_TRY(db_->prepare(
      "UPDATE messages SET state = ?, state_changed_at_ms = ? WHERE contact = ? AND direction = ? AND "
      "message_id = ? AND state < ? AND state != ?"));
  stmt->bind(1, static_cast<int>(state))
      .bind(2, now_ms)
      .bind(3, contact)
      .bind(4, static_cast<int>(Direction::outgoing))
      .bind(5, message_id)
      .bind(6, static_cast<int>(state))
      .bind(7, static_cast<int>(MessageState::failed));
  return stmt->run("updating a message state");
}

Status AccountStore::set_message_state(const Ed25519Public& contact, Direction direction, ByteView message_id,
                                       MessageState state, std::int64_t now_ms,
                                       std::string_view failure_reason) {
  auto stmt = SZ_TRY(db_->prepare(
      "UPDATE messages SET state = ?, state_changed_at_ms = ?, failure_reason = ? WHERE contact = ? AND "
      "direction = ? AND message_id = ?"));
  stmt->bind(1, static_cast<int>(state))
      .bind(2, now_ms)
      .bind_text(3, failure_reason)
      .bind(4, contact)
      .bind(5, static_cast<int>(direction))
      .bind(6, message_id);
  return stmt->run("updating a message state");
}

Result<std::vector<MessageRecord>> AccountStore::history(const Ed25519Public& contact, std::size_t limit) {
  // The newest `limit`, shown oldest first.
  auto stmt = SZ_TRY(db_->prepare("SELECT * FROM (" + std::string(kMessageColumns) +
                                  "WHERE contact = ? ORDER BY local_id DESC LIMIT ?) ORDER BY local_id"));
  stmt->bind(1, contact).bind(2, static_cast<std::int64_t>(limit));
  std::vector<MessageRecord> out;
  while (SZ_TRY(stmt->step("reading the history"))) out.push_back(read_message(*stmt));
  return out;
}

Result<std::vector<MessageRecord>> AccountStore::unread_incoming() {
  auto stmt = SZ_TRY(
      db_->prepare(std::string(kMessageColumns) + "WHERE direction = ? AND state = ? ORDER BY local_id"));
  stmt->bind(1, static_cast<int>(Direction::incoming)).bind(2, static_cast<int>(MessageState::delivered));
  std::vector<MessageRecord> out;
  while (SZ_TRY(stmt->step("reading unread messages"))) out.push_back(read_message(*stmt));
  return out;
}

// ---- outbox --------------------------------------------------------------------

Result<std::int64_t> AccountStore::enqueue(const OutboxRecord& e) {
  auto stmt =
      SZ_TRY(db_->prepare("INSERT INTO outbox (message_id, contact, mailbox, content, sealed, created_at_ms, "
                          "attempts, expires_at_ms) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt->bind(1, e.message_id)
      .bind(2, e.contact)
      .bind(3, e.mailbox)
      .bind(4, e.content)
      .bind(5, e.sealed)
      .bind(6, e.created_at_ms)
      .bind(7, e.attempts)
      .bind(8, e.expires_at_ms);
  SZ_CHECK(stmt->run("queueing an outgoing message"));
  return db_->last_insert_rowid();
}

Result<std::vector<OutboxRecord>> AccountStore::outbox() {
  auto stmt = SZ_TRY(db_->prepare(
      "SELECT id, message_id, contact, mailbox, content, sealed, created_at_ms, attempts, expires_at_ms "
      "FROM outbox ORDER BY id"));
  std::vector<OutboxRecord> out;
  while (SZ_TRY(stmt->step("reading the outbox"))) {
    OutboxRecord e;
    e.id = stmt->column_int64(0);
    e.message_id = stmt->column_bytes(1);
    e.contact = fixed<32>(stmt->column_bytes(2));
    e.mailbox = fixed<32>(stmt->column_bytes(3));
    e.content = stmt->column_bytes(4);
    e.sealed = stmt->column_bytes(5);
    e.created_at_ms = stmt->column_int64(6);
    e.attempts = static_cast<std::uint32_t>(stmt->column_int64(7));
    e.expires_at_ms = stmt->column_int64(8);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::int64_t> AccountStore::outbox_size() {
  auto stmt = SZ_TRY(db_->prepare("SELECT count(*) FROM outbox"));
  SZ_TRY(stmt->step("counting the outbox"));
  return stmt->column_int64(0);
}

Status AccountStore::set_sealed(std::int64_t outbox_id, ByteView sealed) {
  // The plaintext content is dropped once sealed: the history keeps what the user sees.
  auto stmt = SZ_TRY(db_->prepare("UPDATE outbox SET sealed = ?, content = x'' WHERE id = ?"));
  stmt->bind(1, sealed).bind(2, outbox_id);
  return stmt->run("storing a sealed message");
}

Status AccountStore::note_attempt(std::int64_t outbox_id) {
  auto stmt = SZ_TRY(db_->prepare("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?"));
  stmt->bind(1, outbox_id);
  return stmt->run("counting a send attempt");
}

Status AccountStore::remove_from_outbox(std::int64_t outbox_id) {
  auto stmt = SZ_TRY(db_->prepare("DELETE FROM outbox WHERE id = ?"));
  stmt->bind(1, outbox_id);
  return stmt->run("removing a sent message");
}

}  // namespace samizdat::client
