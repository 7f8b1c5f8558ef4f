// MailboxStore behaviour on a real SQLite file: durability across reopen, order, acks,
// expiry, limits and concurrent appends.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store_test_support.hpp"
#include "util/clock.hpp"

namespace samizdat::store {
namespace {

using namespace samizdat::store::testing;

class MailboxStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path db_file() const { return dir_.path() / "server.db"; }
  TempDir dir_;
};

TEST_F(MailboxStoreTest, AcknowledgedAppendsSurviveCloseAndReopen) {
  const MailboxId alice = mailbox_of(0xa1);
  std::vector<StoredEnvelopeId> ids;
  {
    auto store = open_store(db_file());
    ASSERT_TRUE(store);
    for (int i = 0; i < 20; ++i) {
      auto appended = append_now(store->mailboxes(), {envelope_to(alice, random_payload(256, i))});
      ASSERT_TRUE(appended.ok()) << appended.error().describe();
      ids.push_back(appended->at(0));
    }
  }
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  auto fetched = store->mailboxes().fetch(alice, 0, 100);
  ASSERT_TRUE(fetched.ok()) << fetched.error().describe();
  ASSERT_EQ(fetched->size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ((*fetched)[i].id, ids[i]);
    EXPECT_EQ((*fetched)[i].ciphertext, random_payload(256, i));
    EXPECT_EQ((*fetched)[i].mailbox, alice);
    EXPECT_GT((*fetched)[i].received_at_ms, 0);
  }
}

TEST_F(MailboxStoreTest, FetchReturnsEnvelopesInIdOrderAndPagesWithAfterId) {
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0), carol = mailbox_of(0xc0);
  std::vector<StoredEnvelopeId> bob_ids;
  for (int i = 0; i < 10; ++i) {
    auto appended =
        append_now(store->mailboxes(), {envelope_to(bob, to_bytes("bob " + std::to_string(i))),
                                        envelope_to(carol, to_bytes("carol " + std::to_string(i)))});
    ASSERT_TRUE(appended.ok());
    ASSERT_EQ(appended->size(), 2u);
    EXPECT_LT(appended->at(0), appended->at(1));
    bob_ids.push_back(appended->at(0));
  }
  auto first = store->mailboxes().fetch(bob, 0, 4);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 4u);
  auto rest = store->mailboxes().fetch(bob, first->back().id, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 6u);
  std::vector<StoredEnvelopeId> seen;
  for (auto& e : *first) seen.push_back(e.id);
  for (auto& e : *rest) seen.push_back(e.id);
  EXPECT_EQ(seen, bob_ids);
  for (std::size_t i = 0; i < 6; ++i)
    EXPECT_EQ(as_chars((*rest)[i].ciphertext), "bob " + std::to_string(i + 4));
}

TEST_F(MailboxStoreTest, AckDeletesOnlyTheNamedMailboxsEnvelopes) {
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0), mallory = mailbox_of(0x66);
  auto bobs = append_now(
      store->mailboxes(),
      {envelope_to(bob, to_bytes("1")), envelope_to(bob, to_bytes("2")), envelope_to(bob, to_bytes("3"))});
  auto mallorys = append_now(store->mailboxes(), {envelope_to(mallory, to_bytes("m"))});
  ASSERT_TRUE(bobs.ok() && mallorys.ok());

  // Mallory acks Bob's ids (and one that never existed): nothing of Bob's goes away.
  auto wrong = ack_now(store->mailboxes(), mallory, {bobs->at(0), bobs->at(1), 999'999});
  ASSERT_TRUE(wrong.ok()) << wrong.error().describe();
  EXPECT_EQ(*wrong, 0u);
  EXPECT_EQ(*store->mailboxes().count(bob), 3u);

  auto acked = ack_now(store->mailboxes(), bob, {bobs->at(0), bobs->at(2), 424242});
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 2u);
  auto left = store->mailboxes().fetch(bob, 0, 10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).id, bobs->at(1));
  EXPECT_EQ(*store->mailboxes().count(mallory), 1u);
}

TEST_F(MailboxStoreTest, IdsAreNeverReusedAfterTheNewestEnvelopeIsAckedAndTheStoreReopened) {
  const MailboxId bob = mailbox_of(0xb0);
  StoredEnvelopeId last = 0;
  {
    auto store = open_store(db_file());
    ASSERT_TRUE(store);
    auto ids =
        append_now(store->mailboxes(), {envelope_to(bob, to_bytes("a")), envelope_to(bob, to_bytes("b"))});
    ASSERT_TRUE(ids.ok());
    last = ids->back();
    ASSERT_TRUE(ack_now(store->mailboxes(), bob, *ids).ok());
  }
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  auto next = append_now(store->mailboxes(), {envelope_to(bob, to_bytes("c"))});
  ASSERT_TRUE(next.ok());
  // A client that paged up to `last` must still see the new envelope.
  EXPECT_GT(next->at(0), last);
  auto fetched = store->mailboxes().fetch(bob, last, 10);
  ASSERT_TRUE(fetched.ok());
  ASSERT_EQ(fetched->size(), 1u);
}

TEST_F(MailboxStoreTest, ExpiredEnvelopesAreDeletedAndNoLongerFetched) {
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0);
  const std::int64_t now = unix_millis();
  auto ids = append_now(store->mailboxes(), {envelope_to(bob, to_bytes("old"), now + 1'000),
                                             envelope_to(bob, to_bytes("fresh"), now + 3'600'000)});
  ASSERT_TRUE(ids.ok());
  auto expired = expire_now(store->mailboxes(), now + 2'000);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1u);
  auto left = store->mailboxes().fetch(bob, 0, 10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(as_chars(left->at(0).ciphertext), "fresh");
  EXPECT_EQ(*store->mailboxes().count(bob), 1u);
}

TEST_F(MailboxStoreTest, ExpiryLongerThanTheRetentionIsClampedAndZeroMeansTheRetention) {
  SqliteStoreOptions options;
  options.limits.retention_ms = 60'000;
  auto store = open_store(db_file(), options);
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0);
  const std::int64_t before = unix_millis();
  ASSERT_TRUE(
      append_now(store->mailboxes(), {envelope_to(bob, to_bytes("default")),
                                      envelope_to(bob, to_bytes("greedy"), before + 365LL * 86'400'000)})
          .ok());
  auto fetched = store->mailboxes().fetch(bob, 0, 10);
  ASSERT_TRUE(fetched.ok());
  ASSERT_EQ(fetched->size(), 2u);
  for (auto& e : *fetched) EXPECT_LE(e.expires_at_ms, unix_millis() + 60'000);
  auto expired = expire_now(store->mailboxes(), unix_millis() + 61'000);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 2u);
}

TEST_F(MailboxStoreTest, LargeExpirySweepsDeleteEverythingInSeveralTransactions) {
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  const std::int64_t now = unix_millis();
  std::vector<NewEnvelope> batch;
  for (int i = 0; i < 10'000; ++i) batch.push_back(envelope_to(mailbox_of(i % 200), to_bytes("x"), now + 10));
  for (std::size_t i = 0; i < batch.size(); i += 1000) {
    std::vector<NewEnvelope> part(batch.begin() + i, batch.begin() + i + 1000);
    ASSERT_TRUE(append_now(store->mailboxes(), std::move(part)).ok());
  }
  auto expired = expire_now(store->mailboxes(), now + 20);
  ASSERT_TRUE(expired.ok()) << expired.error().describe();
  EXPECT_EQ(*expired, 10'000u);
  EXPECT_EQ(*store->mailboxes().count(mailbox_of(7)), 0u);
}

TEST_F(MailboxStoreTest, FullMailboxRefusesMoreUntilTheRecipientAcks) {
  SqliteStoreOptions options;
  options.limits.max_queued_per_mailbox = 5;
  auto store = open_store(db_file(), options);
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0), carol = mailbox_of(0xc0);
  std::vector<StoredEnvelopeId> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(append_now(store->mailboxes(), {envelope_to(bob, to_bytes("m"))})->at(0));
  auto refused = append_now(store->mailboxes(), {envelope_to(bob, to_bytes("one too many"))});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::limit_exceeded);
  EXPECT_NE(refused.error().message.find("full"), std::string::npos) << refused.error().message;

  // A multi-recipient send is all-or-nothing: Carol gets nothing when Bob is full.
  auto both =
      append_now(store->mailboxes(), {envelope_to(carol, to_bytes("c")), envelope_to(bob, to_bytes("b"))});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(*store->mailboxes().count(carol), 0u);

  ASSERT_TRUE(ack_now(store->mailboxes(), bob, {ids[0]}).ok());
  EXPECT_TRUE(append_now(store->mailboxes(), {envelope_to(bob, to_bytes("room again"))}).ok());
  EXPECT_EQ(*store->mailboxes().count(bob), 5u);
}

TEST_F(MailboxStoreTest, MailboxLimitHoldsAcrossReopen) {
  SqliteStoreOptions options;
  options.limits.max_queued_per_mailbox = 3;
  const MailboxId bob = mailbox_of(0xb0);
  {
    auto store = open_store(db_file(), options);
    ASSERT_TRUE(store);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(append_now(store->mailboxes(), {envelope_to(bob, to_bytes("m"))}).ok());
  }
  auto store = open_store(db_file(), options);
  ASSERT_TRUE(store);
  auto refused = append_now(store->mailboxes(), {envelope_to(bob, to_bytes("m"))});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::limit_exceeded);
}

TEST_F(MailboxStoreTest, OversizedAndEmptyEnvelopesAreRejectedWithoutStoringAnything) {
  SqliteStoreOptions options;
  options.limits.max_envelope_bytes = 1024;
  auto store = open_store(db_file(), options);
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0);
  auto big =
      append_now(store->mailboxes(), {envelope_to(bob, to_bytes("ok")), envelope_to(bob, Bytes(1025, 7))});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, Errc::limit_exceeded);
  EXPECT_NE(big.error().message.find("1025"), std::string::npos) << big.error().message;
  auto empty = append_now(store->mailboxes(), {envelope_to(bob, Bytes{})});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
  auto none = append_now(store->mailboxes(), {});
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(*store->mailboxes().count(bob), 0u);
  EXPECT_TRUE(append_now(store->mailboxes(), {envelope_to(bob, Bytes(1024, 7))}).ok());
}

TEST_F(MailboxStoreTest, FetchStopsAtTheByteBudgetButReturnsAtLeastOneEnvelope) {
  SqliteStoreOptions options;
  options.limits.max_fetch_bytes = 2500;
  auto store = open_store(db_file(), options);
  ASSERT_TRUE(store);
  const MailboxId bob = mailbox_of(0xb0);
  ASSERT_TRUE(
      append_now(store->mailboxes(), {envelope_to(bob, Bytes(4000, 1)), envelope_to(bob, Bytes(1000, 2)),
                                      envelope_to(bob, Bytes(1000, 3)), envelope_to(bob, Bytes(1000, 4))})
          .ok());
  auto first = store->mailboxes().fetch(bob, 0, 100);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  auto second = store->mailboxes().fetch(bob, first->back().id, 100);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->size(), 2u);
}

TEST_F(MailboxStoreTest, ConcurrentAppendsFromManyThreadsAreAllDurableAndCorrectlyNumbered) {
  constexpr int kThreads = 8, kPerThread = 300;
  std::map<StoredEnvelopeId, std::pair<int, int>> acknowledged;  // id -> (thread, sequence)
  {
    auto store = open_store(db_file());
    ASSERT_TRUE(store);
    std::mutex mutex;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Each thread keeps many appends in flight; its own ones must still be ordered.
        std::vector<std::future<Result<std::vector<StoredEnvelopeId>>>> pending;
        for (int i = 0; i < kPerThread; ++i) {
          auto promise = std::make_shared<std::promise<Result<std::vector<StoredEnvelopeId>>>>();
          pending.push_back(promise->get_future());
          std::string text = std::to_string(t) + ":" + std::to_string(i);
          store->mailboxes().append({envelope_to(mailbox_of(static_cast<std::uint8_t>(t)), to_bytes(text))},
                                    [promise](auto result) { promise->set_value(std::move(result)); });
        }
        for (int i = 0; i < kPerThread; ++i) {
          auto result = pending[i].get();
          if (!result.ok() || result->size() != 1) {
            ++failures;
            continue;
          }
          std::lock_guard lock(mutex);
          acknowledged.emplace(result->at(0), std::make_pair(t, i));
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(failures.load(), 0);
  }
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(kThreads * kPerThread));  // ids unique

  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  for (int t = 0; t < kThreads; ++t) {
    auto fetched = store->mailboxes().fetch(mailbox_of(static_cast<std::uint8_t>(t)), 0, 1000);
    ASSERT_TRUE(fetched.ok());
    ASSERT_EQ(fetched->size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      // Submission order of one thread is id order, and each id maps to the right payload.
      const auto& envelope = (*fetched)[i];
      EXPECT_EQ(acknowledged.at(envelope.id), std::make_pair(t, i));
      EXPECT_EQ(as_chars(envelope.ciphertext), std::to_string(t) + ":" + std::to_string(i));
    }
  }
}

TEST_F(MailboxStoreTest, CloseFlushesPendingAppendsAndLaterWritesAreRefused) {
  const MailboxId bob = mailbox_of(0xb0);
  std::atomic<int> acked{0};
  {
    auto store = open_store(db_file());
    ASSERT_TRUE(store);
    for (int i = 0; i < 500; ++i) {
      store->mailboxes().append({envelope_to(bob, to_bytes("m"))}, [&](auto result) {
        if (result.ok()) ++acked;
      });
    }
    store->close();
    EXPECT_EQ(acked.load(), 500);
    auto late = append_now(store->mailboxes(), {envelope_to(bob, to_bytes("late"))});
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, Errc::unavailable);
  }
  auto store = open_store(db_file());
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->mailboxes().count(bob), 500u);
}

}  // namespace
}  // namespace samizdat::store
