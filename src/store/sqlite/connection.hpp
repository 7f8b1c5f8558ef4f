// RAII over one sqlite3 connection and its cache of prepared statements.
// A Connection is used by one thread at a time (opened with SQLITE_OPEN_NOMUTEX).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::store::sqlite {

// Errc::storage with what we were doing, SQLite's explanation and, for the errors an
// operator can fix (disk full, read-only, not a database), what to do.
Error sqlite_error(sqlite3* db, int rc, std::string_view doing);

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Indexes are 1-based as in SQLite. Blob/text bindings are not copied: the bytes must
  // outlive the next step()/reset().
  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bind(int index, ByteView value);
  void bind_text(int index, std::string_view value);

  // true: a row is available; false: done. Errors carry `doing` for context.
  Result<bool> step(std::string_view doing);
  // Runs a statement that returns no rows (or ignores them) to completion.
  Status run(std::string_view doing);

  std::int64_t column_int64(int index) { return sqlite3_column_int64(stmt_, index); }
  ByteView column_blob(int index);
  Bytes column_bytes(int index) { return to_bytes(column_blob(index)); }

  // Ends the statement's use (releasing its read snapshot) and clears bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

// A cached statement borrowed for one use; reset when the borrow ends so it never
// pins a WAL snapshot.
class StatementUse {
 public:
  explicit StatementUse(Statement& stmt) : stmt_(&stmt) {}
  ~StatementUse() {
    if (stmt_ != nullptr) stmt_->reset();
  }
  StatementUse(StatementUse&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  StatementUse& operator=(StatementUse&&) = delete;
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  Statement* operator->() { return stmt_; }
  Statement& operator*() { return *stmt_; }

 private:
  Statement* stmt_;
};

class Connection {
 public:
  // Opens (creating it when `create`) the database file. Does not touch its contents.
  static Result<std::unique_ptr<Connection>> open(const std::filesystem::path& file, bool create);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements with no parameters (pragmas, DDL, BEGIN/COMMIT).
  Status exec(std::string_view sql, std::string_view doing);
  // Runs "PRAGMA ..." (or any single query) and returns the first column of the first row.
  Result<std::int64_t> query_int(std::string_view sql, std::string_view doing);
  // A prepared statement for `sql`, compiled once per connection and then reused.
  Result<StatementUse> prepare(std::string_view sql);

  std::int64_t changes() const { return sqlite3_changes64(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

}  // namespace samizdat::store::sqlite
