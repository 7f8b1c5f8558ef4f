// SqliteStore: the default server storage backend, one SQLite file per server holding
// the MailboxStore and the KeyDirectory.
//
// Durability ("acknowledged = survives SIGKILL and power loss"): WAL journal with
// synchronous=FULL, so every COMMIT has written *and fsynced* the WAL before any completion
// callback of that transaction runs (SIGKILL alone would only need the write; power loss
// needs the fsync). A single writer thread drains a queue and commits everything waiting,
// up to max_requests_per_transaction, in one transaction (group commit): one fsync covers
// the whole batch, and batches grow by themselves under load with no timer adding latency
// when idle. Reads use a pool of reader connections that WAL lets run concurrently with
// the writer. Deleted envelopes are overwritten (secure_delete). The file is flock()ed:
// one process at a time. Pragmas and their reasons: sqlite_store.cpp.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "store/key_directory.hpp"
#include "store/mailbox_store.hpp"
#include "store/store_limits.hpp"
#include "util/result.hpp"

namespace samizdat::store {

struct SqliteStoreOptions {
  StoreLimits limits;
  // Requests committed together at most; 1 gives the naive one-transaction-per-request
  // baseline (benchmarks only).
  std::size_t max_requests_per_transaction = 8192;
  // Queued write requests beyond which new ones fail fast with Errc::unavailable.
  std::size_t max_pending_requests = 200'000;
  // Reader connections kept open for fetch/count/lookups (more are opened on demand).
  std::size_t max_idle_readers = 8;
  // Run PRAGMA quick_check at open (O(size of the database)).
  bool check_integrity_on_open = false;
};

class SqliteStore {
 public:
  // Opens or creates the database, migrating its schema forward. Errc::storage with a
  // clear message for a junk/corrupt file, a database from a newer version, a file
  // another process has open, or a directory that is not writable.
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& file,
                                                   SqliteStoreOptions options = {});

  ~SqliteStore();  // close()
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  MailboxStore& mailboxes();
  KeyDirectory& keys();

  // Commits everything already queued, runs its callbacks, then stops the writer; later
  // writes fail with Errc::unavailable (reads keep working until destruction). Idempotent;
  // blocks until done. Call it from one thread, never from inside a store callback.
  void close();

  const std::filesystem::path& file() const;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace samizdat::store
