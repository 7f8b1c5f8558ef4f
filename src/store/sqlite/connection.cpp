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
      advice = "; the file is not an intact Samizdat database: restore it from a backup or move it aside";
      break;
    default:
      break;
  }
  return make_error(Errc::storage, fmt::format("{}: {} (sqlite code {}){}", doing, detail, rc, advice));
}

void Statement::bind(int index, ByteView value) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const std::uint8_t empty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &empty : value.data(), value.size(), SQLITE_STATIC);
}

void Statement::bind_text(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
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

ByteView Statement::column_blob(int index) {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)};
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

}  // namespace samizdat::store::sqlite
