// A long randomised conversation: reordering, duplicates and drops within the skip bound, plus
// floods beyond it. Reproduce a failure with SAMIZDAT_TEST_SEED=<the printed seed>.
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <random>

#include "crypto/e2e/ratchet_session.hpp"
#include "e2e_session_pair.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::uint64_t kDefaultSeed = 0x5A3172DA7;
constexpr int kTotalMessages = 10000;
constexpr std::size_t kReorderWindow = 24;

struct InFlight {
  Bytes wire;
  int id = 0;
};

class Conversation {
 public:
  explicit Conversation(std::uint64_t seed) : rng_(seed) {
    pair_.alice.emplace(RatchetSession::initiate(pair_.alice_identity, pair_.bob_bundle()).value());
  }

  void run() {
    while (sent_ < kTotalMessages && !::testing::Test::HasFatalFailure()) {
      if (sent_ >= next_flood_) {
        flood();
        next_flood_ += 3500;
        continue;
      }
      if (sent_ >= next_restart_) {
        restart_both();
        next_restart_ += 1000;
      }
      bool alice_sends = !pair_.bob || coin(50);
      if (coin(45)) {
        for (int n = 1 + uniform(8); n > 0 && sent_ < kTotalMessages; --n) send(alice_sends);
      } else {
        bool to_bob = coin(50);
        for (int n = 1 + uniform(8); n > 0; --n) deliver_one(to_bob, uniform(kReorderWindow));
      }
    }
    drain();
  }

  void check_every_message_decrypted_exactly_once() const {
    int lost = 0, duplicates_rejected = 0;
    for (int id = 0; id < sent_; ++id) {
      if (dropped_[id]) {
        EXPECT_EQ(decrypted_[id], 0) << "dropped message " << id << " was decrypted";
        ++lost;
        continue;
      }
      EXPECT_EQ(decrypted_[id], 1) << "message " << id;
    }
    duplicates_rejected = replays_;
    std::printf("%d messages, %d dropped, %d duplicates rejected, %d floods beyond the bound refused\n",
                sent_, lost, duplicates_rejected, floods_refused_);
    EXPECT_GT(duplicates_rejected, 100);
    EXPECT_EQ(floods_refused_, 2);
  }

 private:
  bool coin(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  int uniform(std::size_t n) { return static_cast<int>(rng_() % n); }
  RatchetSession& session(bool alice) { return alice ? *pair_.alice : *pair_.bob; }

  int send(bool from_alice, bool enqueue_normally = true) {
    int id = sent_++;
    dropped_.push_back(false);
    decrypted_.push_back(0);
    std::string text = "message " + std::to_string(id);
    Bytes wire = session(from_alice).encrypt(as_bytes(text)).value();
    auto& queue = from_alice ? to_bob_ : to_alice_;
    if (!enqueue_normally) {
      queue.push_back({std::move(wire), id});
      return id;
    }
    if (coin(3)) {
      dropped_[id] = true;  // never delivered
      return id;
    }
    if (coin(5)) {  // a duplicate, somewhere later in the queue
      std::size_t at = queue.size() + 1 + uniform(kReorderWindow);
      duplicates_.push_back({at, {wire, id}, from_alice});
    }
    queue.push_back({std::move(wire), id});
    release_duplicates(from_alice);
    return id;
  }

  void release_duplicates(bool from_alice) {
    auto& queue = from_alice ? to_bob_ : to_alice_;
    for (auto it = duplicates_.begin(); it != duplicates_.end();) {
      if (it->from_alice == from_alice && queue.size() >= it->at) {
        queue.push_back(it->message);
        it = duplicates_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void deliver_one(bool to_bob, std::size_t pick) {
    auto& queue = to_bob ? to_bob_ : to_alice_;
    if (queue.empty()) return;
    pick = std::min(pick, queue.size() - 1);
    InFlight message = std::move(queue[pick]);
    queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(pick));
    Result<Bytes> result = decrypt_at(to_bob, message.wire);
    std::string expected = "message " + std::to_string(message.id);
    if (decrypted_[message.id] == 0) {
      ASSERT_TRUE(result.ok()) << "message " << message.id << ": " << result.error().describe();
      ASSERT_EQ(std::string(as_chars(*result)), expected);
      decrypted_[message.id] = 1;
    } else {
      ASSERT_FALSE(result.ok()) << "message " << message.id << " decrypted twice";
      ASSERT_EQ(result.error().code, Errc::replay) << result.error().describe();
      ++replays_;
    }
  }

  Result<Bytes> decrypt_at(bool bob, const Bytes& wire) {
    if (bob && !pair_.bob) {
      auto prekey = SZ_TRY(PreKeyMessage::parse(wire));
      auto accepted = SZ_TRY(RatchetSession::accept(pair_.bob_identity, pair_.bob_signed_prekey,
                                                    &pair_.bob_one_time_prekey, prekey));
      pair_.bob.emplace(std::move(accepted.session));
      return std::move(accepted.plaintext);
    }
    return session(!bob).decrypt(wire);
  }

  void drain() {
    for (auto& d : duplicates_) (d.from_alice ? to_bob_ : to_alice_).push_back(d.message);
    duplicates_.clear();
    while ((!to_bob_.empty() || !to_alice_.empty()) && !::testing::Test::HasFatalFailure()) {
      bool to_bob = to_alice_.empty() || (!to_bob_.empty() && coin(50));
      deliver_one(to_bob, uniform(kReorderWindow));
    }
  }

  // More than kMaxSkipPerChain messages at once: the farthest is refused without touching the
  // state, and once the earlier ones arrive everything decrypts.
  void flood() {
    drain();
    if (!pair_.bob) return;
    bool from_alice = coin(50);
    std::vector<int> ids;
    for (std::uint32_t i = 0; i < kMaxSkipPerChain + 2; ++i) ids.push_back(send(from_alice, false));
    auto& queue = from_alice ? to_bob_ : to_alice_;
    RatchetSession& receiver = session(!from_alice);
    Bytes before = state_of(receiver);
    auto refused = receiver.decrypt(queue.back().wire);
    ASSERT_FALSE(refused.ok());
    ASSERT_EQ(refused.error().code, Errc::limit_exceeded) << refused.error().describe();
    ASSERT_EQ(state_of(receiver), before);
    ++floods_refused_;
    while (!queue.empty() && !::testing::Test::HasFatalFailure()) deliver_one(/*to_bob=*/from_alice, 0);
  }

  void restart_both() {
    pair_.alice.emplace(RatchetSession::deserialize(pair_.alice->serialize().view()).value());
    if (pair_.bob) pair_.bob.emplace(RatchetSession::deserialize(pair_.bob->serialize().view()).value());
  }

  struct PendingDuplicate {
    std::size_t at;
    InFlight message;
    bool from_alice;
  };

  std::mt19937_64 rng_;
  SessionPair pair_;
  std::deque<InFlight> to_bob_, to_alice_;
  std::vector<PendingDuplicate> duplicates_;
  std::vector<bool> dropped_;
  std::vector<int> decrypted_;
  int sent_ = 0, replays_ = 0, floods_refused_ = 0;
  int next_flood_ = 3000, next_restart_ = 1000;
};

TEST(RatchetConversation, TenThousandMessagesWithReorderingDuplicatesAndDropsDecryptExactlyOnce) {
  std::uint64_t seed = kDefaultSeed;
  if (const char* env = std::getenv("SAMIZDAT_TEST_SEED")) seed = std::strtoull(env, nullptr, 0);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with SAMIZDAT_TEST_SEED=" + std::to_string(seed) +
               ")");
  Conversation conversation(seed);
  conversation.run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  conversation.check_every_message_decrypted_exactly_once();
}

}  // namespace
}  // namespace samizdat::crypto::e2e
