// Crash safety under load (issue #7): samizdatd is SIGKILLed at random moments at least 20
// times while several pairs keep sending and receiving; receiving clients are SIGKILLed 20
// times between fetch, commit and ack. In the end every message a user sent arrives exactly
// once and nothing else appears. A message leaves the sender's outbox only after the server
// acknowledged it as durable, so a message the server acknowledged and then lost to a crash
// would never arrive, and the count check below catches it.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

constexpr int kServerCrashes = 20;
constexpr int kClientCrashes = 20;
constexpr int kPairs = 3;

// A server that is away for a while: patient rounds.
constexpr int kFlushRounds = 400, kReceiveRounds = 400;

// Every text in `sent` exactly once, and nothing else.
void expect_exactly(const std::vector<client::MessageRecord>& received, const std::set<std::string>& sent,
                    const std::string& who) {
  std::map<std::string, int> seen;
  for (const auto& m : received) ++seen[m.body];
  for (const auto& text : sent) EXPECT_EQ(seen[text], 1) << who << ": '" << text << "'";
  for (const auto& [text, count] : seen) {
    EXPECT_TRUE(sent.count(text)) << who << " received a message nobody sent: '" << text << "'";
  }
  EXPECT_EQ(received.size(), sent.size()) << who;
}

class CrashSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_ / "server");
    ASSERT_NO_FATAL_FAILURE(server_->start());
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "samizdatd log (tail):\n" << tail(server_->log(), 4000);
  }
  static std::string tail(const std::string& text, std::size_t n) {
    return text.size() > n ? text.substr(text.size() - n) : text;
  }

  std::unique_ptr<client::Client> new_client(const std::string& name) {
    return make_client(io_, tmp_ / name, server_->bootstrap());
  }
  static void introduce(client::Client& a, const std::string& a_name, client::Client& b,
                        const std::string& b_name) {
    auto added = a.add_contact(b_name, b.invite().to_string());
    ASSERT_TRUE(added.ok()) << added.error().describe();
    auto added_back = b.add_contact(a_name, a.invite().to_string());
    ASSERT_TRUE(added_back.ok()) << added_back.error().describe();
  }

  TempDir tmp_;
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CrashSafetyTest, EveryMessageArrivesExactlyOnceAcrossTwentyServerCrashesUnderLoad) {
  std::vector<std::unique_ptr<client::Client>> senders;
  std::vector<std::unique_ptr<client::Client>> receivers;
  for (int i = 0; i < kPairs; ++i) {
    senders.push_back(new_client("sender" + std::to_string(i)));
    receivers.push_back(new_client("receiver" + std::to_string(i)));
    ASSERT_TRUE(senders.back() && receivers.back());
    introduce(*senders.back(), "sender", *receivers.back(), "receiver");
    ASSERT_FALSE(HasFatalFailure());
  }

  // The crasher: SIGKILL at a random moment, restart at once or after a short pause. Each
  // life of the server first sees at least one acknowledged send (bounded wait), so every
  // crash lands in a running conversation even when sanitizers or a loaded machine make
  // the restart slow; the moment of the kill after that is random.
  std::atomic<int> crashes{0};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> acknowledged{0};
  std::thread crasher([&] {
    std::mt19937 rng(std::random_device{}());
    while (crashes.load() < kServerCrashes && !stop.load()) {
      const std::size_t before = acknowledged.load();
      for (int waited = 0; waited < 1000 && acknowledged.load() == before && !stop.load(); ++waited)
        std::this_thread::sleep_for(10ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
      server_->kill();
      crashes.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 60));
      server_->start();
    }
  });

  // The load: every pair sends one message and receives what is there, round after round,
  // whatever state the server is in (bounded by the crash count and a round limit).
  std::vector<std::set<std::string>> sent(kPairs);
  for (int round = 0; round < 5000 && crashes.load() < kServerCrashes; ++round) {
    for (int i = 0; i < kPairs; ++i) {
      std::string text = "pair " + std::to_string(i) + " message " + std::to_string(round);
      auto queued = senders[i]->queue_text("receiver", text);
      EXPECT_TRUE(queued.ok()) << queued.error().describe();
      if (!queued.ok()) break;
      sent[i].insert(text);
      auto flushed = run_on(io_, senders[i]->flush_outbox());
      if (flushed.ok()) acknowledged += flushed->sent;
      if (round % 2 == i % 2) (void)run_on(io_, receivers[i]->sync(30ms));
    }
  }
  stop = true;
  crasher.join();
  ASSERT_GE(crashes.load(), kServerCrashes);
  if (!server_->running()) server_->start();

  for (int i = 0; i < kPairs; ++i) flush_all(io_, *senders[i], kFlushRounds);
  std::size_t total = 0;
  for (int i = 0; i < kPairs; ++i) {
    receive_all(io_, *receivers[i], "sender", sent[i].size(), kReceiveRounds, 50ms);
    expect_exactly(incoming(*receivers[i], "sender"), sent[i], "receiver " + std::to_string(i));
    total += sent[i].size();
  }
  std::cout << "server crashes: " << crashes.load() << ", messages: " << total
            << ", acknowledged while crashing: " << acknowledged.load() << "\n";
  // The run must have exercised acknowledgements between crashes, not just a dead server.
  EXPECT_GE(acknowledged.load(), static_cast<std::size_t>(kServerCrashes));

  // Nothing is left behind on the server for anyone.
  for (int i = 0; i < kPairs; ++i) {
    auto again = run_on(io_, receivers[i]->sync(200ms));
    ASSERT_TRUE(again.ok()) << again.error().describe();
    EXPECT_TRUE(again->received.empty());
  }
}

TEST_F(CrashSafetyTest, ReceiverKilledTwentyTimesBetweenReceiveAndAckLosesAndRepeatsNothing) {
  auto alice = new_client("alice");
  auto bob = new_client("bob");
  ASSERT_TRUE(alice && bob);
  introduce(*alice, "alice", *bob, "bob");
  ASSERT_FALSE(HasFatalFailure());
  bob.reset();  // the `samizdat` processes below own Bob's account from here on

  std::set<std::string> sent;
  std::mt19937 rng(std::random_device{}());
  std::string path = program("samizdat").string();
  std::string home = (tmp_ / "bob").string();
  int kills = 0;
  for (int attempt = 0; attempt < kClientCrashes; ++attempt) {
    // Alice keeps writing while Bob's receiving processes die.
    for (int j = 0; j < 5; ++j) {
      std::string text = "crash " + std::to_string(attempt) + "." + std::to_string(j);
      ASSERT_TRUE(alice->queue_text("bob", text).ok());
      sent.insert(text);
    }
    flush_all(io_, *alice, kFlushRounds);
    auto sync = ChildProcess::start({path, "--home", home, "sync"}, {.output = "/dev/null"});
    ASSERT_TRUE(sync.ok()) << sync.error().describe();
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 150));
    if (sync->kill()) ++kills;
  }
  EXPECT_EQ(kills, kClientCrashes);

  Cli bob_cli(tmp_ / "bob");
  auto result = bob_cli({"recv"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto history = bob_cli({"history", "alice"}).json_lines();
  std::map<std::string, int> seen;
  for (const auto& line : history) ++seen[line["text"].get<std::string>()];
  EXPECT_EQ(history.size(), sent.size());
  for (const auto& text : sent) EXPECT_EQ(seen[text], 1) << text;
  for (const auto& [text, count] : seen) EXPECT_TRUE(sent.count(text)) << "never sent: " << text;
}

}  // namespace
}  // namespace samizdat::integration
