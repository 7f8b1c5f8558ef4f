// RAII over one SQLite connection for the client's account database: prepared
// statements with typed binding, transactions that roll back unless committed.
// One thread at a time (the client runs on one executor).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::client::db {

// How hard a commit waits for the disk. `full` (the default): a committed transaction
// survives power loss. `normal`: it survives a process crash only (tests with many
// clients on one disk use it).
enum class Durability { full, normal };

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;

  // 1-based indexes. Values are copied (SQLITE_TRANSIENT).
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, ByteView value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_null(int index);

  // true: a row is ready; false: done. Errc::storage otherwise.
  Result<bool> step();
  // Runs to completion, ignoring rows.
  Status run();

  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  Bytes bytes(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating when `create`) the file; a non-database file gives Errc::storage
  // saying so. Sets WAL mode, the synchronous level for `durability`, foreign keys and
  // a busy timeout (two commands on one account wait for each other).
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& file, bool create,
                                                Durability durability);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  const std::filesystem::path& file() const { return file_; }

 private:
  Database(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  sqlite3* db_;
  std::filesystem::path file_;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database& db) : db_(&db) {}
  Database* db_;
};

Error storage_error(sqlite3* db, int rc, std::string_view doing);

}  // namespace samizdat::client::db
