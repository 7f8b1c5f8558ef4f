#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/group_commit_writer.hpp"
#include "store/sqlite/reader_pool.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_key_directory.hpp"
#include "store/sqlite/sqlite_mailbox_store.hpp"

namespace samizdat::store {

using sqlite::Connection;

struct SqliteStore::Impl {
  std::filesystem::path file;
  int lock_fd = -1;
  std::unique_ptr<sqlite::ReaderPool> readers;
  std::unique_ptr<sqlite::GroupCommitWriter> writer;
  std::unique_ptr<sqlite::SqliteMailboxStore> mailboxes;
  std::unique_ptr<sqlite::SqliteKeyDirectory> keys;

  ~Impl() {
    if (writer) writer->stop();  // before the stores its requests point into go away
    keys.reset();
    mailboxes.reset();
    writer.reset();
    readers.reset();                     // the last connection to close checkpoints and removes the WAL
    if (lock_fd >= 0) ::close(lock_fd);  // only now: closing an fd of the file drops SQLite's locks
  }
};

namespace {

// One process owns the file: the writer keeps the next id and per-mailbox counts in
// memory, which a second writer would invalidate. flock() is separate from SQLite's
// POSIX locks and is released by the kernel when the process dies (even by SIGKILL).
Result<int> lock_database_file(const std::filesystem::path& file) {
  std::error_code ec;
  auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error(Errc::storage,
                      fmt::format("cannot open the database {}: directory {} does not exist: create it first",
                                  file.string(), dir.string()));
  }
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(Errc::storage, fmt::format("cannot open the database {}: {}: check its permissions",
                                                 file.string(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return make_error(Errc::storage,
                        fmt::format("the database {} is in use by another samizdatd process: stop "
                                    "it or use another directory",
                                    file.string()));
    }
    return make_error(Errc::storage,
                      fmt::format("cannot lock the database {}: {}", file.string(), std::strerror(err)));
  }
  return fd;
}

// Writer pragmas, and why:
//  journal_mode=WAL      readers never block the writer or each other; commits append to the WAL.
//  synchronous=FULL      in WAL mode every COMMIT fsyncs the WAL, so a committed (= acknowledged)
//                        transaction survives power loss, not only a process crash. NORMAL would
//                        sync only at checkpoints and could lose the last commits on power loss.
//                        Group commit amortises the fsync over a whole batch.
//  secure_delete=ON      acknowledged and expired ciphertexts are overwritten, not left in free pages
//                        of a disk that might be seized.
//  wal_autocheckpoint    checkpoint after ~16 MiB of WAL (fewer, larger checkpoints under load).
//  journal_size_limit    truncate the WAL back to 64 MiB after a checkpoint so it cannot stay huge.
//  cache_size            64 MiB page cache for the writer: indexes of busy mailboxes stay hot.
//  temp_store=MEMORY     no temporary files.
//  busy_timeout          wait rather than fail if a reader holds the WAL index briefly.
// (synchronous is set with WAL mode by Connection::enable_wal.)
constexpr const char* kWriterPragmas =
    "PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = 4096; "
    "PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; "
    "PRAGMA busy_timeout = 5000";

Status prepare_database(Connection& db, const std::filesystem::path& file, bool check_integrity) {
  // The first read of the header: junk and foreign files are refused here.
  SZ_CHECK(db.exec("SELECT count(*) FROM sqlite_schema", "reading the database header"));
  std::string mode = SZ_TRY(db.enable_wal(sqlite::Durability::full));
  if (mode != "wal") {
    return make_error(Errc::storage,
                      fmt::format("the database {} cannot use WAL mode (journal_mode is {}): put "
                                  "it on a local file system",
                                  file.string(), mode));
  }
  SZ_CHECK(db.exec(kWriterPragmas, "configuring the writer connection"));
  if (check_integrity) {
    std::string verdict = SZ_TRY(db.query_text("PRAGMA quick_check", "checking the database"));
    if (verdict != "ok") {
      return make_error(
          Errc::storage,
          fmt::format("the database {} is damaged ({}): restore it from a backup", file.string(), verdict));
    }
  }
  return sqlite::migrate(db);
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& file,
                                                       SqliteStoreOptions options) {
  // Memory statistics make every SQLite allocation take one process-wide mutex, shared by
  // the writer and all readers: a thread descheduled while holding it stalls the others.
  // Only possible before SQLite initializes; later calls are refused harmlessly.
  static std::once_flag no_memstatus;
  std::call_once(no_memstatus, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  impl->lock_fd = SZ_TRY(lock_database_file(file));
  auto db = SZ_TRY(Connection::open(file, /*create=*/true));
  if (Status ready = prepare_database(*db, file, options.check_integrity_on_open); !ready.ok()) {
    return make_error(Errc::storage, fmt::format("cannot use {}: {}", file.string(), ready.error().message));
  }
  std::int64_t next_id = SZ_TRY(sqlite::SqliteMailboxStore::load_next_id(*db));

  impl->readers = std::make_unique<sqlite::ReaderPool>(file, options.max_idle_readers);
  {
    auto probe = SZ_TRY(impl->readers->acquire());  // reader problems show up at open, not on first fetch
  }
  impl->writer = std::make_unique<sqlite::GroupCommitWriter>(
      std::move(db),
      sqlite::GroupCommitWriter::Options{options.max_requests_per_transaction, options.max_pending_requests});
  impl->mailboxes =
      std::make_unique<sqlite::SqliteMailboxStore>(*impl->writer, *impl->readers, options.limits, next_id);
  impl->keys = std::make_unique<sqlite::SqliteKeyDirectory>(*impl->writer, *impl->readers, options.limits);
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

MailboxStore& SqliteStore::mailboxes() { return *impl_->mailboxes; }
KeyDirectory& SqliteStore::keys() { return *impl_->keys; }
void SqliteStore::close() { impl_->writer->stop(); }
const std::filesystem::path& SqliteStore::file() const { return impl_->file; }

}  // namespace samizdat::store
