// Two people talking through a real samizdatd with the real `samizdat` CLI: first
// contact through prekeys, replies, receipts, offline delivery, a server that is down
// when sending, and what the server's database holds.
#include <gtest/gtest.h>

#include <algorithm>

#include "client/account_store.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "integration_support.hpp"
#include "util/encoding.hpp"

namespace samizdat::integration {
namespace {

class CliConversationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_ / "server");
    server_->start();
    for (auto* cli : {&alice_, &bob_}) {
      auto init = (*cli)({"init", "--bootstrap", server_->bootstrap()});
      ASSERT_EQ(init.exit_code, 0) << init.err;
    }
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "samizdatd log:\n" << server_->log();
  }

  std::vector<nlohmann::json> recv(const Cli& cli, double wait = 0) {
    auto result = cli({"recv", "--wait", std::to_string(wait)});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.json_lines();
  }

  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
  Cli alice_{tmp_ / "alice"};
  Cli bob_{tmp_ / "bob"};
};

TEST_F(CliConversationTest, FirstContactRepliesAndReceiptsReachBothSides) {
  auto added = alice_({"contact", "add", "bob", bob_.invite()});
  ASSERT_EQ(added.exit_code, 0) << added.err;

  auto sent = alice_({"send", "bob", "hello bob, it's alice"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(sent.json_lines().at(0)["state"], "sent");

  // Bob has not added Alice: the message still arrives, shown with her address.
  auto alice_address = alice_({"whoami"}).json_lines().at(0)["address"].get<std::string>();
  auto received = recv(bob_);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["text"], "hello bob, it's alice");
  EXPECT_EQ(received[0]["from"], alice_address);
  EXPECT_GT(received[0]["sent_at_ms"].get<std::int64_t>(), 0);
  EXPECT_GE(received[0]["received_at_ms"].get<std::int64_t>(),
            received[0]["sent_at_ms"].get<std::int64_t>() - 5000);
  EXPECT_EQ(received[0]["message_id"].get<std::string>().size(), 32u);

  ASSERT_EQ(bob_({"contact", "add", "alice", alice_.invite()}).exit_code, 0);
  ASSERT_EQ(bob_({"send", "alice", "hi alice"}).exit_code, 0);
  auto reply = recv(alice_);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0]["from"], "bob");
  EXPECT_EQ(reply[0]["text"], "hi alice");

  // Nothing is shown twice.
  EXPECT_TRUE(recv(bob_).empty());
  EXPECT_TRUE(recv(alice_).empty());

  // Bob's client sent delivered + read receipts for "hello bob"; Alice fetched them.
  auto history = alice_({"history", "bob"}).json_lines();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["direction"], "outgoing");
  EXPECT_EQ(history[0]["text"], "hello bob, it's alice");
  EXPECT_EQ(history[0]["state"], "read");
  EXPECT_EQ(history[1]["direction"], "incoming");
  EXPECT_EQ(history[1]["state"], "read");

  // Both sides compute the same safety number.
  auto a = alice_({"safety-number", "bob"}).json_lines().at(0)["digits"];
  auto b = bob_({"safety-number", "alice"}).json_lines().at(0)["digits"];
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.get<std::string>().size(), 60u);
}

TEST_F(CliConversationTest, MessageToAnOfflineRecipientArrivesWhenTheyComeOnline) {
  ASSERT_EQ(alice_({"contact", "add", "bob", bob_.invite()}).exit_code, 0);
  for (int i = 0; i < 3; ++i) {
    auto sent = alice_({"send", "bob", "while you were away #" + std::to_string(i)});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
  }
  // The server restarts while Bob is still offline; nothing is lost.
  server_->stop();
  server_->start();
  auto received = recv(bob_);
  ASSERT_EQ(received.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(received[i]["text"], "while you were away #" + std::to_string(i));
}

TEST_F(CliConversationTest, SendWithTheServerDownQueuesAndTheNextCommandDelivers) {
  ASSERT_EQ(alice_({"contact", "add", "bob", bob_.invite()}).exit_code, 0);
  ASSERT_EQ(alice_({"send", "bob", "first"}).exit_code, 0);
  server_->stop();

  auto sent = alice_({"send", "bob", "written while the server is down"});
  EXPECT_EQ(sent.exit_code, 3);
  EXPECT_NE(sent.err.find("cannot reach the server"), std::string::npos) << sent.err;
  EXPECT_NE(sent.err.find("queued"), std::string::npos) << sent.err;
  EXPECT_EQ(alice_({"whoami"}).json_lines().at(0)["outbox"], 1);

  server_->start();
  // Any command retries the outbox first.
  auto whoami = alice_({"whoami"});
  EXPECT_EQ(whoami.json_lines().at(0)["outbox"], 0) << whoami.err;
  auto received = recv(bob_);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["text"], "first");
  EXPECT_EQ(received[1]["text"], "written while the server is down");
}

TEST_F(CliConversationTest, ServerDatabaseHoldsNoPlaintextAndNoSenderIdentity) {
  ASSERT_EQ(alice_({"contact", "add", "bob", bob_.invite()}).exit_code, 0);
  const std::string marker = "PLAINTEXT-MARKER-7f3a9c";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(alice_({"send", "bob", marker + std::to_string(i)}).exit_code, 0);
  server_->stop();  // checkpoints nothing away: we read the files as they are

  // Alice's identity and device keys, read from her own account.
  auto store = client::AccountStore::open({alice_.home(), std::nullopt, client::Durability::full});
  ASSERT_TRUE(store.ok()) << store.error().describe();
  auto seed = (*store)->get(client::settings::identity_seed);
  auto device_secret = (*store)->get(client::settings::device_key);
  ASSERT_TRUE(seed.ok() && *seed && device_secret.ok() && *device_secret);
  auto identity = crypto::Ed25519KeyPair::from_seed((*seed)->view());
  auto device_key = crypto::X25519KeyPair::from_secret((*device_secret)->view());
  auto alice_mailbox = crypto::e2e::mailbox_id(identity.public_key, 1);

  fs::path db = server_->database_file();
  ASSERT_FALSE(db.empty()) << "no database in " << server_->dir();
  std::string files = read_text(db) + read_text(db.string() + "-wal");
  EXPECT_EQ(files.find(marker), std::string::npos) << "plaintext found in the server's files";

  std::string envelopes = dump_tables(db, "envelope");
  EXPECT_GT(envelopes.size(), 3u * 256) << "the queued envelopes should be there";
  EXPECT_EQ(envelopes.find(marker), std::string::npos);
  EXPECT_EQ(envelopes.find(as_string(identity.public_key)), std::string::npos) << "sender identity stored";
  EXPECT_EQ(envelopes.find(as_string(alice_mailbox)), std::string::npos) << "sender mailbox stored";
  EXPECT_EQ(envelopes.find(as_string(device_key.public_key)), std::string::npos)
      << "sender device key stored";
  EXPECT_EQ(envelopes.find(hex_encode(identity.public_key)), std::string::npos);
}

TEST_F(CliConversationTest, BadInputGetsOneClearLineAndNonZeroExit) {
  auto bad_invite = alice_({"contact", "add", "bob", "szi1garbage"});
  EXPECT_EQ(bad_invite.exit_code, 1);
  EXPECT_NE(bad_invite.err.find("invite"), std::string::npos);
  auto unknown = alice_({"send", "nobody", "hi"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("samizdat contact add"), std::string::npos) << unknown.err;
  Cli stranger(tmp_ / "nobody-home");
  auto no_account = stranger({"whoami"});
  EXPECT_EQ(no_account.exit_code, 1);
  EXPECT_NE(no_account.err.find("samizdat init"), std::string::npos) << no_account.err;
  auto twice = alice_({"init", "--bootstrap", server_->bootstrap()});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("already exists"), std::string::npos) << twice.err;
}

}  // namespace
}  // namespace samizdat::integration
