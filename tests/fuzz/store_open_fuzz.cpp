// A database file is bytes from disk: whatever is in it (junk, truncation, a damaged or
// hostile SQLite file), opening and using the store must give errors, never crash or hang.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/sqlite/sqlite_store.hpp"

namespace {

const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "samizdat-store-fuzz-XXXXXX").string();
    return std::filesystem::path(::mkdtemp(pattern.data()));
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace samizdat;
  using namespace samizdat::store;
  const auto file = work_dir() / "server.db";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(file.string() + suffix);
  {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto opened = SqliteStore::open(file);
  if (!opened.ok()) {
    if (opened.error().code != Errc::storage) __builtin_trap();  // the documented error kind
    return 0;
  }
  auto& store = **opened;
  MailboxId mailbox{};
  mailbox.fill(1);
  (void)store.mailboxes().fetch(mailbox, 0, 10);
  (void)store.mailboxes().count(mailbox);
  (void)store.keys().find_device_by_mailbox(mailbox);
  (void)store.keys().count_one_time_prekeys(mailbox);
  store.mailboxes().append({NewEnvelope{mailbox, to_bytes("x"), 0}}, [](auto) {});
  store.mailboxes().ack(mailbox, {1, 2, 3}, [](auto) {});
  store.mailboxes().expire(INT64_MAX, [](auto) {});
  store.keys().take_prekey_bundle(mailbox, [](auto) {});
  store.close();  // runs every callback above before returning
  return 0;
}
