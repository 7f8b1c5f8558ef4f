// KeyDirectory behaviour on a real SQLite file: registration rules, lookups, prekeys
// handed out exactly once under concurrency.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "store_test_support.hpp"

namespace samizdat::store {
namespace {

using namespace samizdat::store::testing;

PublicKey key_of(std::uint8_t tag) {
  PublicKey key{};
  key.fill(tag);
  return key;
}

DeviceRecord device(std::uint8_t mailbox, std::uint8_t identity, std::uint32_t device_id,
                    std::uint8_t noise) {
  return DeviceRecord{mailbox_of(mailbox), key_of(identity), device_id, key_of(noise), 0};
}

Status register_now(KeyDirectory& keys, DeviceRecord record) {
  auto result = wait_for<bool>([&](auto done) {
    keys.register_device(record, [done](Status s) {
      if (s.ok()) return done(true);
      done(std::move(s).error());
    });
  });
  if (!result.ok()) return std::move(result).error();
  return {};
}

Status signed_prekey_now(KeyDirectory& keys, const MailboxId& mailbox, SignedPrekey prekey) {
  auto result = wait_for<bool>([&](auto done) {
    keys.store_signed_prekey(mailbox, prekey, [done](Status s) {
      if (s.ok()) return done(true);
      done(std::move(s).error());
    });
  });
  if (!result.ok()) return std::move(result).error();
  return {};
}

Result<std::size_t> add_prekeys_now(KeyDirectory& keys, const MailboxId& mailbox,
                                    std::vector<OneTimePrekey> prekeys) {
  return wait_for<std::size_t>(
      [&](auto done) { keys.add_one_time_prekeys(mailbox, std::move(prekeys), std::move(done)); });
}

Result<PrekeyBundle> bundle_now(KeyDirectory& keys, const MailboxId& mailbox) {
  return wait_for<PrekeyBundle>([&](auto done) { keys.take_prekey_bundle(mailbox, std::move(done)); });
}

std::vector<OneTimePrekey> prekeys(std::uint32_t first, std::uint32_t n) {
  std::vector<OneTimePrekey> out;
  for (std::uint32_t id = first; id < first + n; ++id) out.push_back({id, random_payload(33, id)});
  return out;
}

class KeyDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(dir_.path() / "server.db");
    ASSERT_TRUE(store_);
  }
  KeyDirectory& keys() { return store_->keys(); }
  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(KeyDirectoryTest, RegisteredDeviceIsFoundByNoiseKeyMailboxAndIdentity) {
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  ASSERT_TRUE(register_now(keys(), device(2, 0xaa, 2, 0x12)).ok());
  auto by_noise = keys().find_device_by_noise_key(key_of(0x12));
  ASSERT_TRUE(by_noise.ok()) << by_noise.error().describe();
  EXPECT_EQ(by_noise->mailbox, mailbox_of(2));
  EXPECT_EQ(by_noise->device_id, 2u);
  EXPECT_GT(by_noise->registered_at_ms, 0);
  auto by_mailbox = keys().find_device_by_mailbox(mailbox_of(1));
  ASSERT_TRUE(by_mailbox.ok());
  EXPECT_EQ(by_mailbox->noise_static_key, key_of(0x11));
  auto devices = keys().find_devices_by_identity(key_of(0xaa));
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ(devices->at(0).device_id, 1u);
  EXPECT_EQ(keys().find_device_by_noise_key(key_of(0x99)).error().code, Errc::not_found);
  EXPECT_EQ(keys().find_device_by_mailbox(mailbox_of(9)).error().code, Errc::not_found);
  EXPECT_TRUE(keys().find_devices_by_identity(key_of(0xbb))->empty());
}

TEST_F(KeyDirectoryTest, IsRegisteredAnswersForCommittedRegistrationsAndSurvivesReopening) {
  EXPECT_FALSE(*keys().is_registered(mailbox_of(1)));  // a miss is never remembered as a no
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  EXPECT_TRUE(*keys().is_registered(mailbox_of(1)));
  EXPECT_FALSE(*keys().is_registered(mailbox_of(2)));
  // A refused registration leaves the mailbox unregistered.
  EXPECT_FALSE(register_now(keys(), device(2, 0xbb, 1, 0x11)).ok());  // noise key taken
  EXPECT_FALSE(*keys().is_registered(mailbox_of(2)));
  // After a restart the answer comes from the database.
  store_.reset();
  store_ = open_store(dir_.path() / "server.db");
  ASSERT_TRUE(store_);
  EXPECT_TRUE(*keys().is_registered(mailbox_of(1)));
  EXPECT_FALSE(*keys().is_registered(mailbox_of(2)));
}

TEST_F(KeyDirectoryTest, ReRegistrationReplacesTheNoiseKeyButNobodyCanTakeAnotherDevicesMailboxOrKey) {
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x21)).ok());  // the device rotated its transport key
  EXPECT_EQ(keys().find_device_by_noise_key(key_of(0x11)).error().code, Errc::not_found);
  EXPECT_EQ(keys().find_device_by_noise_key(key_of(0x21))->mailbox, mailbox_of(1));

  auto other_identity = register_now(keys(), device(1, 0xbb, 1, 0x31));
  ASSERT_FALSE(other_identity.ok());
  EXPECT_EQ(other_identity.error().code, Errc::already_exists);
  auto stolen_key = register_now(keys(), device(2, 0xbb, 1, 0x21));
  ASSERT_FALSE(stolen_key.ok());
  EXPECT_EQ(stolen_key.error().code, Errc::already_exists);
  auto duplicate_device_id = register_now(keys(), device(3, 0xaa, 1, 0x41));
  ASSERT_FALSE(duplicate_device_id.ok());
  EXPECT_EQ(duplicate_device_id.error().code, Errc::already_exists);
}

TEST_F(KeyDirectoryTest, BundleCarriesTheSignedPrekeyAndEachOneTimePrekeyOnceThenNone) {
  const MailboxId mailbox = mailbox_of(1);
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  EXPECT_EQ(bundle_now(keys(), mailbox).error().code, Errc::not_found);  // no signed prekey yet
  ASSERT_TRUE(signed_prekey_now(keys(), mailbox, {7, random_payload(33, 7), random_payload(64, 8)}).ok());
  auto stored = add_prekeys_now(keys(), mailbox, prekeys(100, 3));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, 3u);
  EXPECT_EQ(*keys().count_one_time_prekeys(mailbox), 3u);

  std::set<std::uint32_t> handed_out;
  for (int i = 0; i < 3; ++i) {
    auto bundle = bundle_now(keys(), mailbox);
    ASSERT_TRUE(bundle.ok()) << bundle.error().describe();
    EXPECT_EQ(bundle->device.identity_key, key_of(0xaa));
    EXPECT_EQ(bundle->signed_prekey.id, 7u);
    EXPECT_EQ(bundle->signed_prekey.signature, random_payload(64, 8));
    ASSERT_TRUE(bundle->one_time_prekey.has_value());
    EXPECT_EQ(bundle->one_time_prekey->public_key, random_payload(33, bundle->one_time_prekey->id));
    EXPECT_TRUE(handed_out.insert(bundle->one_time_prekey->id).second);
  }
  auto exhausted = bundle_now(keys(), mailbox);
  ASSERT_TRUE(exhausted.ok());
  EXPECT_FALSE(exhausted->one_time_prekey.has_value());
  EXPECT_EQ(exhausted->signed_prekey.id, 7u);
  EXPECT_EQ(*keys().count_one_time_prekeys(mailbox), 0u);
}

TEST_F(KeyDirectoryTest, ConcurrentBundleRequestsHandOutEveryOneTimePrekeyExactlyOnce) {
  const MailboxId mailbox = mailbox_of(1);
  constexpr std::uint32_t kPrekeys = 200;
  constexpr int kThreads = 6, kRequestsPerThread = 50;  // 300 requests for 200 prekeys
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  ASSERT_TRUE(signed_prekey_now(keys(), mailbox, {1, random_payload(33, 1), random_payload(64, 2)}).ok());
  ASSERT_TRUE(add_prekeys_now(keys(), mailbox, prekeys(1, kPrekeys)).ok());

  std::mutex mutex;
  std::multiset<std::uint32_t> handed_out;
  int without = 0, failed = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        auto bundle = bundle_now(keys(), mailbox);
        std::lock_guard lock(mutex);
        if (!bundle.ok()) {
          ++failed;
        } else if (bundle->one_time_prekey) {
          handed_out.insert(bundle->one_time_prekey->id);
        } else {
          ++without;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(handed_out.size(), kPrekeys);
  EXPECT_EQ(std::set<std::uint32_t>(handed_out.begin(), handed_out.end()).size(), kPrekeys);  // no duplicates
  EXPECT_EQ(without, kThreads * kRequestsPerThread - static_cast<int>(kPrekeys));
}

TEST_F(KeyDirectoryTest, OneTimePrekeyUploadsBeyondTheLimitAreRefusedWhole) {
  store_.reset();
  SqliteStoreOptions options;
  options.limits.max_one_time_prekeys = 10;
  store_ = open_store(dir_.path() / "server.db", options);
  ASSERT_TRUE(store_);
  const MailboxId mailbox = mailbox_of(1);
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  ASSERT_TRUE(add_prekeys_now(keys(), mailbox, prekeys(1, 8)).ok());
  auto too_many = add_prekeys_now(keys(), mailbox, prekeys(9, 3));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, Errc::limit_exceeded);
  EXPECT_EQ(*keys().count_one_time_prekeys(mailbox), 8u);
  // Re-uploading ids already stored does not count against the limit.
  auto replaced = add_prekeys_now(keys(), mailbox, prekeys(5, 6));
  ASSERT_TRUE(replaced.ok()) << replaced.error().describe();
  EXPECT_EQ(*replaced, 10u);
}

TEST_F(KeyDirectoryTest, PrekeysForUnregisteredMailboxesAndJunkSizesAreRefused) {
  EXPECT_EQ(add_prekeys_now(keys(), mailbox_of(5), prekeys(1, 1)).error().code, Errc::not_found);
  EXPECT_EQ(signed_prekey_now(keys(), mailbox_of(5), {1, Bytes(32, 1), Bytes(64, 1)}).error().code,
            Errc::not_found);
  EXPECT_EQ(bundle_now(keys(), mailbox_of(5)).error().code, Errc::not_found);
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  EXPECT_EQ(signed_prekey_now(keys(), mailbox_of(1), {1, Bytes(5000, 1), Bytes(64, 1)}).error().code,
            Errc::limit_exceeded);
  EXPECT_EQ(add_prekeys_now(keys(), mailbox_of(1), {{1, Bytes{}}}).error().code, Errc::invalid_argument);
}

TEST_F(KeyDirectoryTest, RegistrationsAndPrekeysSurviveReopen) {
  const MailboxId mailbox = mailbox_of(1);
  ASSERT_TRUE(register_now(keys(), device(1, 0xaa, 1, 0x11)).ok());
  ASSERT_TRUE(signed_prekey_now(keys(), mailbox, {3, Bytes(33, 3), Bytes(64, 4)}).ok());
  ASSERT_TRUE(add_prekeys_now(keys(), mailbox, prekeys(1, 2)).ok());
  ASSERT_TRUE(bundle_now(keys(), mailbox)->one_time_prekey.has_value());
  store_.reset();
  store_ = open_store(dir_.path() / "server.db");
  ASSERT_TRUE(store_);
  EXPECT_EQ(keys().find_device_by_noise_key(key_of(0x11))->mailbox, mailbox);
  EXPECT_EQ(*keys().count_one_time_prekeys(mailbox), 1u);
  auto bundle = bundle_now(keys(), mailbox);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->one_time_prekey->id, 2u);
}

}  // namespace
}  // namespace samizdat::store
