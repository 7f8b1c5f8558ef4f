// RAII over one sqlite3 connection: its cache of prepared statements, typed binding and
// reading, and transactions that roll back unless committed. The one SQLite wrapper: the
// server's store (store/sqlite/) and the client's account database both use it.
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

// Errc::storage with what we were doing, SQLite's explanation and, for the errors a user or
// operator can fix (disk full, read-only, not a database, held by another process), what to do.
Error sqlite_error(sqlite3* db, int rc, std::string_view doing);

// How hard a commit waits for the disk, in WAL mode. `full`: every COMMIT fsyncs the WAL, so
// a committed transaction survives power loss. `normal`: WAL synced at checkpoints only, so
// it survives a process crash but may lose the last commits on power loss.
enum class Durability { full, normal };

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Indexes are 1-based as in SQLite. bind and bind_text copy the value, so a temporary
  // is fine; bind_no_copy does not (for large blobs on a hot path): the bytes must outlive
  // the next step()/reset().
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, ByteView value);
  Statement& bind_no_copy(int index, ByteView value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_null(int index);

  // true: a row is available; false: done. Errors carry `doing` for context.
  Result<bool> step(std::string_view doing);
  // Runs a statement that returns no rows (or ignores them) to completion.
  Status run(std::string_view doing);

  // Columns are 0-based. column_blob is valid until the next step()/reset().
  std::int64_t column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }
  ByteView column_blob(int index) const;
  Bytes column_bytes(int index) const { return to_bytes(column_blob(index)); }
  std::string column_text(int index) const;
  bool column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

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
  Result<std::string> query_text(std::string_view sql, std::string_view doing);
  // A prepared statement for `sql`, compiled once per connection and then reused.
  Result<StatementUse> prepare(std::string_view sql);

  // journal_mode=WAL (readers never block the writer) and the synchronous level for
  // `durability`. Returns the journal mode SQLite actually took: "wal", or the old mode on
  // a file system without the shared memory WAL needs.
  Result<std::string> enable_wal(Durability durability);

  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

// BEGIN IMMEDIATE (the write lock at once, so two writers wait rather than deadlock on an
// upgrade); rolls back on destruction unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Connection& db) : db_(&db) {}
  Connection* db_;
};

}  // namespace samizdat::store::sqlite
