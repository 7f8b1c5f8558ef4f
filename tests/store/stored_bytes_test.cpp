// What a seized database file would reveal: only what callers stored (mailbox, opaque
// ciphertext, times; no sender), and nothing of envelopes once acknowledged or expired.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "store_test_support.hpp"
#include "util/clock.hpp"

namespace samizdat::store {
namespace {

using namespace samizdat::store::testing;

// Every byte the store keeps on disk for this database (main file and any WAL).
Bytes files_on_disk(const std::filesystem::path& file) {
  Bytes all;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    std::ifstream in(file.string() + suffix, std::ios::binary);
    all.insert(all.end(), std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

bool contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

std::set<std::string> columns_of(const std::filesystem::path& file, const std::string& table) {
  std::set<std::string> columns;
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ")").c_str(), -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    columns.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return columns;
}

// A ciphertext holding a recognisable marker; large ones spill onto overflow pages.
Bytes marked(std::string_view marker, std::size_t size) {
  Bytes bytes = random_payload(size, size);
  std::copy(marker.begin(), marker.end(), bytes.begin() + static_cast<std::ptrdiff_t>(size / 2));
  return bytes;
}

TEST(StoredBytesTest, EnvelopeRowsHoldOnlyMailboxCiphertextAndTimes) {
  TempDir dir;
  { ASSERT_TRUE(open_store(dir.path() / "server.db")); }
  EXPECT_EQ(columns_of(dir.path() / "server.db", "envelopes"),
            (std::set<std::string>{"id", "mailbox_no", "received_at", "expires_at", "ciphertext"}));
  EXPECT_EQ(columns_of(dir.path() / "server.db", "mailboxes"),
            (std::set<std::string>{"mailbox_no", "mailbox"}));
}

TEST(StoredBytesTest, AcknowledgedAndExpiredCiphertextsAreErasedFromTheFile) {
  TempDir dir;
  const auto file = dir.path() / "server.db";
  const MailboxId bob = mailbox_of(0xb0), carol = mailbox_of(0xc0);
  std::vector<StoredEnvelopeId> bob_ids;
  {
    auto store = open_store(file);
    ASSERT_TRUE(store);
    // Small (in-page) and large (overflow-page) ciphertexts, plus neighbours that stay.
    auto ids = append_now(store->mailboxes(), {envelope_to(bob, marked("ACKED-SMALL-7f3e", 200)),
                                               envelope_to(bob, marked("ACKED-LARGE-7f3e", 20'000)),
                                               envelope_to(carol, marked("KEPT-CAROL-7f3e", 200))});
    ASSERT_TRUE(ids.ok());
    bob_ids = {ids->at(0), ids->at(1)};
    ASSERT_TRUE(
        append_now(store->mailboxes(), {envelope_to(carol, marked("EXPIRED-7f3e", 300), unix_millis() + 5)})
            .ok());
  }
  Bytes before = files_on_disk(file);
  ASSERT_TRUE(contains(before, "ACKED-SMALL-7f3e"));  // the scan works: stored verbatim
  ASSERT_TRUE(contains(before, "ACKED-LARGE-7f3e"));
  ASSERT_TRUE(contains(before, "EXPIRED-7f3e"));
  {
    auto store = open_store(file);
    ASSERT_TRUE(store);
    ASSERT_EQ(*ack_now(store->mailboxes(), bob, bob_ids), 2u);
    ASSERT_EQ(*expire_now(store->mailboxes(), unix_millis() + 10), 1u);
  }
  Bytes after = files_on_disk(file);
  EXPECT_FALSE(contains(after, "ACKED-SMALL-7f3e"));
  EXPECT_FALSE(contains(after, "ACKED-LARGE-7f3e"));
  EXPECT_FALSE(contains(after, "EXPIRED-7f3e"));
  EXPECT_TRUE(contains(after, "KEPT-CAROL-7f3e"));
}

}  // namespace
}  // namespace samizdat::store
