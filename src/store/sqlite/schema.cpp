#include "store/sqlite/schema.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace samizdat::store::sqlite {
namespace {

// migrations[i] upgrades version i to i + 1. Append new steps; never edit shipped ones.
constexpr std::array<std::string_view, 1> kMigrations = {
    // 1: mailboxes and the key directory.
    R"sql(
    -- Mailboxes that have envelopes queued, numbered so the per-mailbox index holds small
    -- integers instead of 32-byte ids: several times fewer index pages to write per commit.
    CREATE TABLE mailboxes (
      mailbox_no INTEGER PRIMARY KEY,
      mailbox    BLOB    NOT NULL UNIQUE
    );

    -- Queued envelopes. Only what routing needs: no sender, no plaintext.
    CREATE TABLE envelopes (
      id          INTEGER PRIMARY KEY,  -- assigned by the writer, never reused
      mailbox_no  INTEGER NOT NULL,     -- mailboxes.mailbox_no
      received_at INTEGER NOT NULL,     -- unix ms
      expires_at  INTEGER NOT NULL,     -- unix ms
      ciphertext  BLOB    NOT NULL
    );
    CREATE INDEX envelopes_by_mailbox ON envelopes (mailbox_no, id);
    CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);

    -- Small integers the store keeps across restarts (e.g. the envelope id high-water mark).
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE devices (
      mailbox          BLOB PRIMARY KEY,
      identity_key     BLOB    NOT NULL,
      device_id        INTEGER NOT NULL,
      noise_static_key BLOB    NOT NULL UNIQUE,
      registered_at    INTEGER NOT NULL,
      UNIQUE (identity_key, device_id)
    ) WITHOUT ROWID;

    CREATE TABLE signed_prekeys (
      mailbox    BLOB PRIMARY KEY,
      prekey_id  INTEGER NOT NULL,
      public_key BLOB    NOT NULL,
      signature  BLOB    NOT NULL,
      stored_at  INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE one_time_prekeys (
      mailbox    BLOB    NOT NULL,
      prekey_id  INTEGER NOT NULL,
      public_key BLOB    NOT NULL,
      PRIMARY KEY (mailbox, prekey_id)
    ) WITHOUT ROWID;
    )sql",
};

}  // namespace

std::int32_t latest_schema_version() { return static_cast<std::int32_t>(kMigrations.size()); }

Status migrate(Connection& db) {
  // IMMEDIATE: take the write lock before reading the version so two openers cannot
  // both decide to migrate.
  SZ_CHECK(db.exec("BEGIN IMMEDIATE", "starting the schema check"));
  auto body = [&]() -> Status {
    std::int64_t app_id = SZ_TRY(db.query_int("PRAGMA application_id", "reading the application id"));
    std::int64_t version = SZ_TRY(db.query_int("PRAGMA user_version", "reading the schema version"));
    std::int64_t objects = SZ_TRY(db.query_int("SELECT count(*) FROM sqlite_schema", "reading the schema"));
    if (app_id != kApplicationId && (app_id != 0 || version != 0 || objects != 0)) {
      return make_error(Errc::storage,
                        fmt::format("the file is an SQLite database of another program (application id "
                                    "{:#x}), not a Samizdat store: point the server at another file",
                                    app_id));
    }
    // user_version is a signed 32-bit header field: a damaged or hand-edited file can hold
    // a negative one, which no build writes (and which must not index the migrations).
    if (version < 0) {
      return make_error(Errc::storage,
                        fmt::format("the database records schema version {}, which no samizdatd writes: the "
                                    "file is damaged; restore it from a backup or move it aside",
                                    version));
    }
    if (version > latest_schema_version()) {
      return make_error(Errc::storage,
                        fmt::format("the database has schema version {} but this build knows only up to {}: "
                                    "run a newer samizdatd (databases are never downgraded)",
                                    version, latest_schema_version()));
    }
    for (auto v = version; v < latest_schema_version(); ++v) {
      SZ_CHECK(db.exec(kMigrations[static_cast<std::size_t>(v)],
                       fmt::format("migrating the schema from version {} to {}", v, v + 1)));
    }
    if (version != latest_schema_version()) {
      SZ_CHECK(db.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}", kApplicationId,
                                   latest_schema_version()),
                       "recording the schema version"));
    }
    return {};
  };
  Status status = body();
  if (!status.ok()) {
    (void)db.exec("ROLLBACK", "rolling back the schema check");
    return status;
  }
  return db.exec("COMMIT", "committing the schema");
}

}  // namespace samizdat::store::sqlite
