// The account database: secrets never reach the disk in the clear, the wrong key does not
// open it, redelivered messages are stored once, the outbox keeps entries until removed.
#include "client/account_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/e2e/prekeys.hpp"
#include "crypto/keys.hpp"

namespace samizdat::client {
namespace {

namespace fs = std::filesystem;

class AccountStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("sz-store-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
  }
  void TearDown() override { fs::remove_all(home_); }

  std::string file_contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // Everything SQLite may have written: the database and its write-ahead log.
  std::string disk_contents() {
    return file_contents(home_ / "account.db") + file_contents(home_ / "account.db-wal");
  }

  fs::path home_;
};

TEST_F(AccountStoreTest, SecretsAreNeverWrittenInTheClear) {
  auto store = AccountStore::create({home_, std::nullopt, Durability::full});
  ASSERT_TRUE(store.ok()) << store.error().describe();
  auto identity = crypto::Ed25519KeyPair::generate();
  auto spk = crypto::e2e::SignedPreKey::generate(identity, 7);
  ASSERT_TRUE((*store)->put(settings::identity_seed, identity.secret_key.view().first(32)).ok());
  ASSERT_TRUE((*store)->put_signed_prekey(spk, 1).ok());

  std::string disk = disk_contents();
  std::string seed(reinterpret_cast<const char*>(identity.secret_key.data()), 32);
  std::string spk_secret(reinterpret_cast<const char*>(spk.key_pair.secret_key.data()), 32);
  EXPECT_EQ(disk.find(seed), std::string::npos);
  EXPECT_EQ(disk.find(spk_secret), std::string::npos);

  auto back = (*store)->get(settings::identity_seed);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_TRUE(equal_constant_time((*back)->view(), identity.secret_key.view().first(32)));
  auto spk_back = (*store)->signed_prekey(7);
  ASSERT_TRUE(spk_back.ok() && spk_back->has_value());
  EXPECT_EQ((*spk_back)->key_pair.public_key, spk.key_pair.public_key);
}

TEST_F(AccountStoreTest, KeyFileIsPrivateAndRequiredToOpen) {
  ASSERT_TRUE(AccountStore::create({home_, std::nullopt, Durability::full}).ok());
  struct stat st {};
  ASSERT_EQ(::stat((home_ / "account.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  ::chmod((home_ / "account.key").c_str(), 0644);
  auto loose = AccountStore::open({home_, std::nullopt, Durability::full});
  ASSERT_FALSE(loose.ok());
  EXPECT_NE(loose.error().message.find("chmod 600"), std::string::npos);

  fs::remove(home_ / "account.key");
  auto missing = AccountStore::open({home_, std::nullopt, Durability::full});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::io);
}

TEST_F(AccountStoreTest, PassphraseProtectedAccountOpensOnlyWithThatPassphrase) {
  ASSERT_TRUE(AccountStore::create({home_, std::string("correct horse"), Durability::full}).ok());
  EXPECT_FALSE(fs::exists(home_ / "account.key"));

  auto none = AccountStore::open({home_, std::nullopt, Durability::full});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("SAMIZDAT_PASSPHRASE"), std::string::npos);

  auto wrong = AccountStore::open({home_, std::string("battery staple"), Durability::full});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::auth_failed);

  auto right = AccountStore::open({home_, std::string("correct horse"), Durability::full});
  ASSERT_TRUE(right.ok()) << right.error().describe();
  EXPECT_EQ((*right)->key_params().source, KeySource::passphrase);
}

TEST_F(AccountStoreTest, OpeningAHomeWithoutAnAccountSaysToRunInit) {
  auto store = AccountStore::open({home_, std::nullopt, Durability::full});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::not_found);
  EXPECT_NE(store.error().message.find("samizdat init"), std::string::npos);
}

TEST_F(AccountStoreTest, JunkDatabaseFileGivesAClearError) {
  fs::create_directories(home_);
  std::ofstream(home_ / "account.db") << std::string(4096, 'x');
  std::ofstream(home_ / "account.key") << std::string(32, 'k');
  ::chmod((home_ / "account.key").c_str(), 0600);
  auto store = AccountStore::open({home_, std::nullopt, Durability::full});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::storage);
}

TEST_F(AccountStoreTest, RedeliveredMessageIsStoredOnce) {
  auto store = AccountStore::create({home_, std::nullopt, Durability::normal});
  ASSERT_TRUE(store.ok());
  MessageRecord message;
  message.message_id = Bytes(16, 0x42);
  message.contact.fill(0x11);
  message.direction = Direction::incoming;
  message.state = MessageState::delivered;
  message.body = "hello";
  auto first = (*store)->insert_message(message);
  auto second = (*store)->insert_message(message);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  auto history = (*store)->history(message.contact, 10);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1u);
}

TEST_F(AccountStoreTest, OutgoingStateOnlyMovesForward) {
  auto store = AccountStore::create({home_, std::nullopt, Durability::normal});
  ASSERT_TRUE(store.ok());
  MessageRecord message;
  message.message_id = Bytes(16, 0x01);
  message.contact.fill(0x22);
  message.direction = Direction::outgoing;
  message.state = MessageState::sent;
  message.body = "hi";
  ASSERT_TRUE((*store)->insert_message(message).ok());
  ASSERT_TRUE(
      (*store)->advance_outgoing_state(message.contact, message.message_id, MessageState::read, 5).ok());
  ASSERT_TRUE(
      (*store)->advance_outgoing_state(message.contact, message.message_id, MessageState::delivered, 6).ok());
  Ed25519Public someone_else{};
  someone_else.fill(0x33);
  auto history = (*store)->history(message.contact, 10);
  ASSERT_TRUE(history.ok() && history->size() == 1);
  EXPECT_EQ(history->front().state, MessageState::read);
}

TEST_F(AccountStoreTest, OutboxKeepsEntriesUntilRemovedAcrossReopen) {
  {
    auto store = AccountStore::create({home_, std::nullopt, Durability::full});
    ASSERT_TRUE(store.ok());
    OutboxRecord entry;
    entry.contact.fill(1);
    entry.mailbox.fill(2);
    entry.content = to_bytes("plain content");
    auto id = (*store)->enqueue(entry);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE((*store)->set_sealed(*id, to_bytes("sealed bytes")).ok());
  }
  auto store = AccountStore::open({home_, std::nullopt, Durability::full});
  ASSERT_TRUE(store.ok()) << store.error().describe();
  auto outbox = (*store)->outbox();
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ(outbox->front().sealed, to_bytes("sealed bytes"));
  EXPECT_TRUE(outbox->front().content.empty());  // plaintext dropped once sealed
  ASSERT_TRUE((*store)->remove_from_outbox(outbox->front().id).ok());
  EXPECT_EQ(*(*store)->outbox_size(), 0);
}

// Settings keep the stored form every existing account has (integers as decimal text), and
// a value that is not of its setting's type is reported, not misread.
TEST_F(AccountStoreTest, SettingsReadWhatEarlierVersionsWroteAndRefuseDamagedValues) {
  auto store = AccountStore::create({home_, std::nullopt, Durability::full});
  ASSERT_TRUE(store.ok()) << store.error().describe();
  auto& db = (*store)->database();
  auto write_raw = [&](std::string_view key, std::string_view value) {
    auto stmt = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    ASSERT_TRUE(stmt.ok());
    (*stmt)->bind_text(1, key).bind(2, as_bytes(value));
    ASSERT_TRUE((*stmt)->run("writing a raw setting").ok());
  };
  write_raw("device_id", "7");
  write_raw("registered", "1");
  write_raw("bootstrap", "samizdat1:example");
  EXPECT_EQ(*(*store)->get(settings::device_id), std::optional<crypto::e2e::DeviceId>(7));
  EXPECT_EQ(*(*store)->get(settings::registered), std::optional<bool>(true));
  EXPECT_EQ(*(*store)->get(settings::bootstrap), std::optional<std::string>("samizdat1:example"));
  EXPECT_EQ(*(*store)->get(settings::next_prekey_id), std::nullopt);

  ASSERT_TRUE((*store)->put(settings::next_prekey_id, 4294967295u).ok());
  EXPECT_EQ(*(*store)->get(settings::next_prekey_id), std::optional<crypto::e2e::PreKeyId>(4294967295u));

  write_raw("device_id", "seven");
  auto damaged = (*store)->get(settings::device_id);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code, Errc::storage);
  EXPECT_NE(damaged.error().message.find("'device_id' is damaged"), std::string::npos);
  write_raw("registered", "2");
  EXPECT_FALSE((*store)->get(settings::registered).ok());
}

}  // namespace
}  // namespace samizdat::client
