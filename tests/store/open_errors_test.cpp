// Opening the store on files that are not (intact, current) Samizdat databases gives a
// clear Errc::storage, never a crash, and leaves the file alone.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "store_test_support.hpp"

namespace samizdat::store {
namespace {

using namespace samizdat::store::testing;

Bytes read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& file, ByteView bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void run_sql(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class OpenErrorsTest : public ::testing::Test {
 protected:
  std::filesystem::path db_file() const { return dir_.path() / "server.db"; }
  TempDir dir_;
};

TEST_F(OpenErrorsTest, JunkFileIsRefusedWithAClearMessageAndLeftUntouched) {
  const Bytes junk = random_payload(16 * 1024, 42);
  write_file(db_file(), junk);
  auto store = SqliteStore::open(db_file());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::storage);
  EXPECT_NE(store.error().message.find("not a database"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find(db_file().string()), std::string::npos) << store.error().message;
  EXPECT_EQ(read_file(db_file()), junk);
}

TEST_F(OpenErrorsTest, TextFileAndShortFilesAreRefused) {
  for (std::string text : std::vector<std::string>{"hello, this is not a database\n", "SQLite format 3",
                                                   std::string(100, '\0') + "x"}) {
    write_file(db_file(), as_bytes(text));
    auto store = SqliteStore::open(db_file());
    ASSERT_FALSE(store.ok()) << "accepted: " << text;
    EXPECT_EQ(store.error().code, Errc::storage);
  }
}

TEST_F(OpenErrorsTest, AnotherProgramsSqliteDatabaseIsRefused) {
  run_sql(db_file(), "CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)");
  auto store = SqliteStore::open(db_file());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::storage);
  EXPECT_NE(store.error().message.find("another program"), std::string::npos) << store.error().message;
}

TEST_F(OpenErrorsTest, DatabaseFromANewerVersionIsRefusedNotDowngraded) {
  { ASSERT_TRUE(open_store(db_file())); }
  run_sql(db_file(), "PRAGMA user_version = 999");
  auto store = SqliteStore::open(db_file());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::storage);
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

// Found by the fuzz campaign (store_open): a negative version indexed the migration list.
TEST_F(OpenErrorsTest, DatabaseWithANegativeSchemaVersionIsRefusedAsDamaged) {
  { ASSERT_TRUE(open_store(db_file())); }
  run_sql(db_file(), "PRAGMA user_version = -973078527");
  auto store = SqliteStore::open(db_file());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::storage);
  EXPECT_NE(store.error().message.find("damaged"), std::string::npos) << store.error().message;
}

TEST_F(OpenErrorsTest, NewDatabaseIsPrivateToTheServerAndMarkedWithItsSchemaVersion) {
  { ASSERT_TRUE(open_store(db_file())); }
  struct stat info {};
  ASSERT_EQ(::stat(db_file().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_GE(sqlite3_column_int(stmt, 0), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(OpenErrorsTest, SecondOpenOfTheSameFileIsRefusedWhileTheFirstIsOpen) {
  auto first = open_store(db_file());
  ASSERT_TRUE(first);
  auto second = SqliteStore::open(db_file());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::storage);
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
  first.reset();
  EXPECT_TRUE(open_store(db_file()));
}

TEST_F(OpenErrorsTest, MissingDirectoryIsReported) {
  auto store = SqliteStore::open(dir_.path() / "no" / "such" / "dir" / "server.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::storage);
  EXPECT_NE(store.error().message.find("does not exist"), std::string::npos) << store.error().message;
}

TEST_F(OpenErrorsTest, DamagedDatabaseIsCaughtByTheIntegrityCheckAndNeverCrashesWithout) {
  {
    auto store = open_store(db_file());
    ASSERT_TRUE(store);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(
          append_now(store->mailboxes(), {envelope_to(mailbox_of(i % 7), random_payload(300, i))}).ok());
    }
  }
  Bytes bytes = read_file(db_file());
  ASSERT_GT(bytes.size(), 8192u);
  // Scribble over everything after the first page: the header still says "SQLite".
  Bytes noise = random_payload(bytes.size() - 4096, 7);
  std::copy(noise.begin(), noise.end(), bytes.begin() + 4096);
  write_file(db_file(), bytes);

  SqliteStoreOptions checked;
  checked.check_integrity_on_open = true;
  auto refused = SqliteStore::open(db_file(), checked);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::storage);

  // Without the check the damage surfaces as errors on use, not as a crash.
  auto store = SqliteStore::open(db_file());
  if (!store.ok()) {
    EXPECT_EQ(store.error().code, Errc::storage);
    return;
  }
  auto fetched = (*store)->mailboxes().fetch(mailbox_of(1), 0, 100);
  if (!fetched.ok()) {
    EXPECT_EQ(fetched.error().code, Errc::storage);
  }
  auto appended = append_now((*store)->mailboxes(), {envelope_to(mailbox_of(1), to_bytes("x"))});
  if (!appended.ok()) {
    EXPECT_EQ(appended.error().code, Errc::storage);
  }
}

}  // namespace
}  // namespace samizdat::store
