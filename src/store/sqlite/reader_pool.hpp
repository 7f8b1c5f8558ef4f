// ReaderPool: read-only connections for fetches and lookups. WAL lets them read a
// consistent snapshot while the writer commits; each is used by one thread at a time.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "store/sqlite/connection.hpp"
#include "util/result.hpp"

namespace samizdat::store::sqlite {

class ReaderPool {
 public:
  // A borrowed connection, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (db_) pool_->release(std::move(db_));
    }
    Connection& operator*() { return *db_; }
    Connection* operator->() { return db_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> db_;
  };

  ReaderPool(std::filesystem::path file, std::size_t max_idle)
      : file_(std::move(file)), max_idle_(max_idle) {}

  // An idle connection, or a new one when all are busy.
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Connection> db);

  std::filesystem::path file_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// Pragmas every reader connection gets (also used when opening the first reader).
Status configure_reader(Connection& db);

}  // namespace samizdat::store::sqlite
