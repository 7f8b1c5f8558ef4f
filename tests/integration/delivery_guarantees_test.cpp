// What the user must be able to rely on, with the client library in-process against a
// real samizdatd: a server restart or crash with messages in flight loses and duplicates
// nothing; a client that crashes after decrypting but before acking never loses or
// double-shows a message; running out of one-time prekeys does not stop first contact.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "client/server_connection.hpp"
#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

constexpr std::chrono::milliseconds kTimeout{10'000};

class DeliveryTest : public TwoClientTest {
 protected:
  void receive_all(client::Client& c, const std::string& contact, std::size_t count) {
    testing::receive_all(io_, c, contact, count);
  }
  void flush_all(client::Client& c) { testing::flush_all(io_, c); }
};

void expect_each_exactly_once(const std::vector<client::MessageRecord>& messages, int count,
                              const std::string& prefix) {
  std::multiset<std::string> texts;
  for (const auto& m : messages) texts.insert(m.body);
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) EXPECT_EQ(texts.count(prefix + std::to_string(i)), 1u) << prefix << i;
}

class ServerRestartTest : public DeliveryTest, public ::testing::WithParamInterface<int> {};

TEST_P(ServerRestartTest, MessagesInFlightAreNeitherLostNorDuplicated) {
  const int signal = GetParam();
  constexpr int kMessages = 40;
  // The server goes down at a random moment while Alice sends one message at a time.
  std::mt19937 rng(std::random_device{}());
  int stop_after = 5 + static_cast<int>(rng() % 20);
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(alice_->queue_text("bob", "in flight #" + std::to_string(i)).ok());
    if (i == stop_after) {
      // Stop the server from another thread while this flush is on the wire.
      std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
        if (signal == SIGKILL) {
          server_->kill();
        } else {
          server_->stop();
        }
      });
      (void)run_on(io_, alice_->flush_outbox());
      stopper.join();
      server_->start();
      continue;
    }
    (void)run_on(io_, alice_->flush_outbox());
  }
  flush_all(*alice_);
  receive_all(*bob_, "alice", kMessages);
  expect_each_exactly_once(incoming(*bob_, "alice"), kMessages, "in flight #");

  // And the envelopes are gone from the server: a fresh sync finds nothing new.
  auto again = run_on(io_, bob_->sync());
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_TRUE(again->received.empty());
}

INSTANTIATE_TEST_SUITE_P(CleanStopAndCrash, ServerRestartTest, ::testing::Values(SIGTERM, SIGKILL),
                         [](const auto& info) { return info.param == SIGKILL ? "Sigkill" : "Sigterm"; });

TEST_F(DeliveryTest, RedeliveryAfterAClientCrashBeforeAckIsShownOnce) {
  // What the server hands out when a client dies between committing and acking: the
  // same envelope again. Capture the envelopes as Bob's device would fetch them...
  constexpr int kMessages = 5;
  for (int i = 0; i < kMessages; ++i)
    ASSERT_TRUE(alice_->queue_text("bob", "once #" + std::to_string(i)).ok());
  flush_all(*alice_);

  auto device_secret = bob_->store().get(client::settings::device_key);
  ASSERT_TRUE(device_secret.ok() && *device_secret);
  auto bob_device = std::make_shared<const crypto::X25519KeyPair>(
      crypto::X25519KeyPair::from_secret((*device_secret)->view()));
  auto endpoint = bob_->network().endpoints.front();
  auto fetched = run_on(io_, [&]() -> asio::awaitable<Result<wire::ServerMessage>> {
    asio::any_io_executor executor = io_.get_executor();  // no temporaries in co_await (GCC 12)
    auto connection = co_await client::ServerConnection::connect(executor, endpoint, bob_device, kTimeout);
    if (!connection.ok()) co_return std::move(connection).error();
    wire::ClientMessage fetch;
    fetch.mutable_fetch_envelopes();
    co_return co_await (*connection)->call(fetch, kTimeout);
  }());
  ASSERT_TRUE(fetched.ok()) << fetched.error().describe();
  ASSERT_EQ(fetched->envelope_batch().envelopes_size(), kMessages);

  // ...then Bob's client processes and acks them...
  receive_all(*bob_, "alice", kMessages);
  ASSERT_EQ(incoming(*bob_, "alice").size(), static_cast<std::size_t>(kMessages));

  // ...and the server delivers them all again.
  auto resent = run_on(io_, [&]() -> asio::awaitable<Result<wire::ServerMessage>> {
    asio::any_io_executor executor = io_.get_executor();
    std::shared_ptr<const crypto::X25519KeyPair> anonymous;
    auto connection = co_await client::ServerConnection::connect(executor, endpoint, anonymous, kTimeout);
    if (!connection.ok()) co_return std::move(connection).error();
    wire::ClientMessage send;
    for (const auto& envelope : fetched->envelope_batch().envelopes()) {
      auto* out = send.mutable_send_envelopes()->add_envelopes();
      out->set_mailbox(envelope.mailbox());
      out->set_ciphertext(envelope.sealed());
    }
    co_return co_await (*connection)->call(send, kTimeout);
  }());
  ASSERT_TRUE(resent.ok()) << resent.error().describe();

  auto synced = run_on(io_, bob_->sync());
  ASSERT_TRUE(synced.ok()) << synced.error().describe();
  EXPECT_TRUE(synced->received.empty());
  EXPECT_EQ(synced->dropped, 0u) << "a redelivery is a quiet duplicate, not an error";
  expect_each_exactly_once(incoming(*bob_, "alice"), kMessages, "once #");
}

TEST_F(DeliveryTest, ClientKilledAtRandomWhileReceivingLosesNothingAndShowsNothingTwice) {
  constexpr int kMessages = 30;
  for (int i = 0; i < kMessages; ++i)
    ASSERT_TRUE(alice_->queue_text("bob", "crash #" + std::to_string(i)).ok());
  flush_all(*alice_);
  bob_.reset();  // the CLI processes below own Bob's account now

  // `samizdat sync` processes, SIGKILLed at random points: between fetch, commit and ack.
  std::mt19937 rng(std::random_device{}());
  Cli bob_cli(tmp_ / "bob");
  for (int attempt = 0; attempt < 6; ++attempt) {
    const std::string path = program("samizdat").string();
    const std::string home = (tmp_ / "bob").string();
    auto sync = ChildProcess::start({path, "--home", home, "sync"}, {.output = "/dev/null"});
    ASSERT_TRUE(sync.ok()) << sync.error().describe();
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    sync->kill();
  }
  // Whatever survived: a final recv shows the rest, and history has each message once.
  auto result = bob_cli({"recv"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto history = bob_cli({"history", "alice"}).json_lines();
  std::multiset<std::string> texts;
  for (const auto& line : history) texts.insert(line["text"].get<std::string>());
  EXPECT_EQ(history.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(texts.count("crash #" + std::to_string(i)), 1u) << i;
}

TEST_F(DeliveryTest, FirstContactStillWorksWhenOneTimePrekeysRunOut) {
  // Carol publishes only 3 one-time prekeys; 6 strangers write to her.
  auto carol = make_client(io_, tmp_ / "carol", server_->bootstrap(), /*one_time_prekeys=*/3);
  ASSERT_TRUE(carol);
  std::vector<std::unique_ptr<client::Client>> senders;
  for (int i = 0; i < 6; ++i) {
    senders.push_back(make_client(io_, tmp_ / ("sender" + std::to_string(i)), server_->bootstrap()));
    ASSERT_TRUE(senders.back());
    ASSERT_TRUE(senders.back()->add_contact("carol", carol->invite().to_string()).ok());
    ASSERT_TRUE(senders.back()->queue_text("carol", "hello from sender " + std::to_string(i)).ok());
    auto flushed = run_on(io_, senders.back()->flush_outbox());
    ASSERT_TRUE(flushed.ok()) << flushed.error().describe();
    EXPECT_EQ(flushed->sent, 1u);
  }
  std::size_t received = 0;
  for (int round = 0; round < 20 && received < 6; ++round) {
    auto synced = run_on(io_, carol->sync(200ms));
    ASSERT_TRUE(synced.ok()) << synced.error().describe();
    received += synced->received.size();
  }
  EXPECT_EQ(received, 6u);

  // Carol's client noticed and topped her one-time prekeys up again.
  auto device_secret = carol->store().get(client::settings::device_key);
  ASSERT_TRUE(device_secret.ok() && *device_secret);
  auto carol_device = std::make_shared<const crypto::X25519KeyPair>(
      crypto::X25519KeyPair::from_secret((*device_secret)->view()));
  auto count = run_on(io_, [&]() -> asio::awaitable<Result<wire::ServerMessage>> {
    asio::any_io_executor executor = io_.get_executor();
    auto endpoint = carol->network().endpoints.front();
    auto connection = co_await client::ServerConnection::connect(executor, endpoint, carol_device, kTimeout);
    if (!connection.ok()) co_return std::move(connection).error();
    wire::ClientMessage ask;
    ask.mutable_upload_prekeys();
    co_return co_await (*connection)->call(ask, kTimeout);
  }());
  ASSERT_TRUE(count.ok()) << count.error().describe();
  EXPECT_EQ(count->prekeys_stored().one_time_prekeys_remaining(), 3u);

  // Every sender can read Carol's answer (their sessions were set up without a one-time key).
  for (int i = 0; i < 6; ++i) {
    auto stranger = carol->find_contact(senders[i]->address().to_string());
    ASSERT_TRUE(stranger.ok());
    ASSERT_TRUE(carol->add_contact("s" + std::to_string(i), senders[i]->invite().to_string()).ok());
    ASSERT_TRUE(carol->queue_text("s" + std::to_string(i), "welcome " + std::to_string(i)).ok());
  }
  flush_all(*carol);
  for (int i = 0; i < 6; ++i) {
    for (int round = 0; round < 20 && incoming(*senders[i], "carol").empty(); ++round) {
      (void)run_on(io_, senders[i]->sync(100ms));
    }
    auto got = incoming(*senders[i], "carol");
    ASSERT_EQ(got.size(), 1u) << "sender " << i;
    EXPECT_EQ(got[0].body, "welcome " + std::to_string(i));
  }
}

}  // namespace
}  // namespace samizdat::integration
