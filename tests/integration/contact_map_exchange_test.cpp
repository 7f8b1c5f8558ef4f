// Network map channel 4 against a real samizdatd, no censorship involved: Bob holds a newer
// map (imported), Alice has none. His ordinary message tells her client; it asks him once;
// his answer waits in her mailbox while she is offline and is accepted when she comes back.
// The server publishes no map here, so nothing can arrive in-band: every map Alice gets is
// her contact's. (The censored version is tests/integration/failover_map_test.cpp case (d).)
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "../reach/map_test_support.hpp"
#include "integration_support.hpp"
#include "reach/bootstrap.hpp"
#include "util/clock.hpp"

namespace samizdat::integration {
namespace {

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

class ContactMapExchange : public ::testing::Test {
 protected:
  std::int64_t outbox(client::Client& c) {
    auto size = c.store().outbox_size();
    return size.ok() ? *size : -1;
  }

  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_.path() / "server");
    server_->start();
    auto parsed = reach::parse_bootstrap(server_->bootstrap());
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    parsed->map_root = op_.root.public_key;  // the clients pin our test root for maps
    endpoints_ = parsed->endpoints;
    auto line = reach::encode_bootstrap(*parsed);
    ASSERT_TRUE(line.ok()) << line.error().describe();
    bootstrap_ = *line;
    alice_ = make_client(io_, home("alice"), bootstrap_);
    bob_ = make_client(io_, home("bob"), bootstrap_);
    ASSERT_TRUE(alice_ && bob_);
    ASSERT_TRUE(alice_->add_contact("bob", bob_->invite().to_string()).ok());
    ASSERT_TRUE(bob_->add_contact("alice", alice_->invite().to_string()).ok());
  }

  fs::path home(const std::string& who) { return tmp_.path() / who; }

  // A signed map of this network: the server's endpoints plus one more address.
  Bytes signed_map(std::uint64_t version) {
    reach::NetworkMap map;
    map.version = version;
    map.issued_at = now_seconds() - 60;
    map.expires_at = now_seconds() + 7 * 86400;
    for (const auto& e : endpoints_) map.endpoints.push_back(reach::MapEndpoint{e});
    auto extra = endpoints_.front();
    extra.port = 9;  // discard: nothing listens; only there to tell the maps apart
    map.endpoints.push_back(reach::MapEndpoint{extra});
    return op_.sign(map);
  }

  bool send(client::Client& from, const std::string& to, const std::string& text) {
    if (!from.queue_text(to, text).ok()) return false;
    auto flushed = run_on(io_, from.flush_outbox());
    return flushed.ok() && flushed->pending == 0;
  }

  TempDir tmp_;
  reach::testing::Operator op_{now_seconds() - 3600, now_seconds() + 30 * 86400};
  reach::testing::LogCapture logs_;
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<transport::Endpoint> endpoints_;
  std::string bootstrap_;
  std::unique_ptr<client::Client> alice_, bob_;
};

TEST_F(ContactMapExchange, MapReachesAnOfflineContactThroughHerMailboxAndIsAskedForOnce) {
  auto imported = bob_->offer_map(signed_map(2), "import");
  ASSERT_TRUE(imported.ok()) << imported.error().describe();
  ASSERT_EQ(alice_->network_map(), nullptr);

  ASSERT_TRUE(send(*bob_, "alice", "hello"));
  // Alice's sync stores the message, sees Bob's digest and sends her request at once.
  auto synced = run_on(io_, alice_->sync());
  ASSERT_TRUE(synced.ok()) << synced.error().describe();
  ASSERT_EQ(synced->received.size(), 1u);
  EXPECT_EQ(count(logs_.text(), "contact bob has network map v2 (we have none): asking for it"), 1u)
      << logs_.text();
  ASSERT_EQ(outbox(*alice_), 0);  // the request left

  // Alice goes offline (app closed). Bob's sync answers; the reply waits in her mailbox.
  alice_.reset();
  for (int i = 0; i < 50 && count(logs_.text(), "sending network map v2 to contact alice") == 0; ++i) {
    ASSERT_TRUE(run_on(io_, bob_->sync(std::chrono::milliseconds(50))).ok());
  }
  ASSERT_EQ(count(logs_.text(), "sending network map v2 to contact alice"), 1u) << logs_.text();
  ASSERT_EQ(outbox(*bob_), 0);  // the reply is on the server

  // Alice opens the app again: her first sync fetches the reply and checks it.
  auto reopened = client::Client::open(io_.get_executor(), in_process_options(home("alice")));
  ASSERT_TRUE(reopened.ok()) << reopened.error().describe();
  alice_ = std::move(*reopened);
  ASSERT_TRUE(run_on(io_, alice_->sync()).ok());
  ASSERT_NE(alice_->network_map(), nullptr) << logs_.text();
  EXPECT_EQ(alice_->network_map()->map.version, 2u);
  EXPECT_EQ(count(logs_.text(), "network map v2 accepted from contact bob"), 1u) << logs_.text();
  EXPECT_EQ(alice_->known_endpoints().size(), endpoints_.size() + 1);  // the dialer sees v2's endpoints

  // More messages name the same map: nobody asks or answers again; nobody sees a control message.
  ASSERT_TRUE(send(*bob_, "alice", "again"));
  ASSERT_TRUE(run_on(io_, alice_->sync()).ok());
  ASSERT_TRUE(send(*alice_, "bob", "got it"));
  ASSERT_TRUE(run_on(io_, bob_->sync()).ok());
  EXPECT_EQ(count(logs_.text(), "asking for it"), 1u) << logs_.text();
  EXPECT_EQ(count(logs_.text(), "sending network map"), 1u) << logs_.text();
  auto history = alice_->history("bob");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  for (const auto& m : *history) EXPECT_FALSE(m.body.empty());
}

TEST_F(ContactMapExchange, NewerMapFromEitherSideFlowsToTheOther) {
  // Both hold v2; then Alice imports v3: her next message (a read receipt counts) updates Bob.
  ASSERT_TRUE(bob_->offer_map(signed_map(2), "import").ok());
  ASSERT_TRUE(alice_->offer_map(signed_map(2), "import").ok());
  ASSERT_TRUE(alice_->offer_map(signed_map(3), "import").ok());
  ASSERT_TRUE(send(*bob_, "alice", "ping"));
  ASSERT_TRUE(run_on(io_, alice_->sync()).ok());
  ASSERT_TRUE(alice_->take_unread().ok());  // queues a read receipt, which carries v3's digest
  ASSERT_TRUE(run_on(io_, alice_->flush_outbox()).ok());
  for (int i = 0; i < 20 && (!bob_->network_map() || bob_->network_map()->map.version < 3); ++i) {
    ASSERT_TRUE(run_on(io_, bob_->sync(std::chrono::milliseconds(20))).ok());
    ASSERT_TRUE(run_on(io_, alice_->sync(std::chrono::milliseconds(20))).ok());
  }
  ASSERT_NE(bob_->network_map(), nullptr);
  EXPECT_EQ(bob_->network_map()->map.version, 3u) << logs_.text();
  EXPECT_EQ(count(logs_.text(), "network map v3 accepted from contact alice"), 1u) << logs_.text();
  auto bob_history = bob_->history("alice");
  ASSERT_TRUE(bob_history.ok());
  EXPECT_EQ(bob_history->size(), 1u);  // only his own "ping"
}

}  // namespace
}  // namespace samizdat::integration
