#include "store/sqlite/reader_pool.hpp"

namespace samizdat::store::sqlite {

Status configure_reader(Connection& db) {
  // query_only: a reader can never write by mistake. busy_timeout: a reader can briefly
  // see SQLITE_BUSY while the writer restarts the WAL; wait instead of failing.
  return db.exec("PRAGMA query_only = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -8192",
                 "configuring a reader connection");
}

Result<ReaderPool::Lease> ReaderPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  auto db = SZ_TRY(Connection::open(file_, /*create=*/false));
  SZ_CHECK(configure_reader(*db));
  return Lease(this, std::move(db));
}

void ReaderPool::release(std::unique_ptr<Connection> db) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(db));
}

}  // namespace samizdat::store::sqlite
