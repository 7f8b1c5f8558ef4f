#include "client/db/sqlite_database.hpp"

namespace samizdat::client::db {

Error storage_error(sqlite3* db, int rc, std::string_view doing) {
  std::string message = std::string(doing) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      message += " (the account database is damaged or not a Samizdat database: check --home)";
      break;
    case SQLITE_FULL:
      message += " (the disk is full: free some space and retry)";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      message += " (check that the home directory exists and is writable)";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      message += " (another samizdat command holds the account: retry when it finishes)";
      break;
    default:
      break;
  }
  return make_error(Errc::storage, std::move(message));
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, ByteView value) {
  // An empty blob must still be a blob, not NULL: give SQLite a valid pointer.
  static const std::uint8_t kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(), value.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  // An empty string_view may have a null data(), which SQLite would store as NULL.
  sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_TRANSIENT,
                      SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return storage_error(db_, rc, "account database statement failed");
}

Status Statement::run() {
  for (;;) {
    bool row = SZ_TRY(step());
    if (!row) return {};
  }
}

Bytes Statement::bytes(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return Bytes(data, data + size);
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(data, static_cast<std::size_t>(size));
}

Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& file, bool create,
                                                 Durability durability) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = storage_error(raw, rc, "cannot open the account database " + file.string());
    sqlite3_close(raw);
    return error;
  }
  std::unique_ptr<Database> db(new Database(raw, file));
  sqlite3_busy_timeout(raw, 10'000);
  // WAL: readers never block the writer. synchronous=FULL in WAL mode fsyncs the log on
  // every commit, so a committed ratchet step survives power loss before we ack it.
  SZ_CHECK(db->exec("PRAGMA journal_mode=WAL"));
  SZ_CHECK(
      db->exec(durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  SZ_CHECK(db->exec("PRAGMA foreign_keys=ON"));
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    sqlite3_free(message);
    return storage_error(db_, rc, "account database: " + text.substr(0, 40));
  }
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return storage_error(db_, rc, "account database: cannot prepare a statement");
  return Statement(db_, stmt);
}

Result<Transaction> Transaction::begin(Database& db) {
  SZ_CHECK(db.exec("BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Database* db = db_;
  SZ_CHECK(db->exec("COMMIT"));
  db_ = nullptr;
  return {};
}

}  // namespace samizdat::client::db
