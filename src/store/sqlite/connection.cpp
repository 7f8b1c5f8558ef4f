#include "store/sqlite/connection.hpp"

#include <fmt/format.h>

namespace samizdat::store::sqlite {

Error sqlite_error(sqlite3* db, int rc, std::string_view doing) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string advice;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      advice = "; free disk space and retry";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      advice = "; check that the file and its directory exist and are writable";
      break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      advice = "; the file is not an intact Samizdat database: check the path, or restore it from a backup";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      advice = "; another process holds the database: retry when it finishes";
      break;
    default:
      break;
  }
  return make_error(Errc::storage, fmt::format("{}: {} (sqlite code {}){}", doing, detail, rc, advice));
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

// A zero-length blob must still be a blob, not NULL: SQLite gets a non-null pointer.
static const std::uint8_t kEmptyBlob = 0;

Statement& Statement::bind(int index, ByteView value) {
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmptyBlob : value.data(), value.size(),
                      SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_no_copy(int index, ByteView value) {
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmptyBlob : value.data(), value.size(), SQLITE_STATIC);
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

Result<bool> Statement::step(std::string_view doing) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(sqlite3_db_handle(stmt_), rc, doing);
}

Status Statement::run(std::string_view doing) {
  for (;;) {
    bool row = SZ_TRY(step(doing));
    if (!row) return {};
  }
}

ByteView Statement::column_blob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)};
}

std::string Statement::column_text(int index) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return std::string(data, static_cast<std::size_t>(size));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::filesystem::path& file, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(db, rc, fmt::format("opening database {}", file.string()));
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  statements_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

Status Connection::exec(std::string_view sql, std::string_view doing) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  sqlite3_free(message);  // sqlite3_errmsg() below says the same
  return sqlite_error(db_, rc, doing);
}

Result<std::int64_t> Connection::query_int(std::string_view sql, std::string_view doing) {
  StatementUse stmt = SZ_TRY(prepare(sql));
  bool row = SZ_TRY(stmt->step(doing));
  if (!row) return make_error(Errc::storage, fmt::format("{}: the query returned no row", doing));
  return stmt->column_int64(0);
}

Result<std::string> Connection::query_text(std::string_view sql, std::string_view doing) {
  StatementUse stmt = SZ_TRY(prepare(sql));
  bool row = SZ_TRY(stmt->step(doing));
  if (!row) return make_error(Errc::storage, fmt::format("{}: the query returned no row", doing));
  return stmt->column_text(0);
}

Result<StatementUse> Connection::prepare(std::string_view sql) {
  auto found = statements_.find(std::string(sql));
  if (found != statements_.end()) return StatementUse(*found->second);
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                              nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, fmt::format("preparing \"{}\"", sql));
  auto stmt = std::make_unique<Statement>(raw);
  Statement& ref = *stmt;
  statements_.emplace(std::string(sql), std::move(stmt));
  return StatementUse(ref);
}

Result<std::string> Connection::enable_wal(Durability durability) {
  std::string mode = SZ_TRY(query_text("PRAGMA journal_mode = WAL", "switching to WAL mode"));
  SZ_CHECK(exec(durability == Durability::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                "setting the commit durability"));
  return mode;
}

Result<Transaction> Transaction::begin(Connection& db) {
  SZ_CHECK(db.exec("BEGIN IMMEDIATE", "starting a transaction"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK", "rolling back a transaction");
}

Status Transaction::commit() {
  SZ_CHECK(db_->exec("COMMIT", "committing a transaction"));
  db_ = nullptr;
  return {};
}

}  // namespace samizdat::store::sqlite
