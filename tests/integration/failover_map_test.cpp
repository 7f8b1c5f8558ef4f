// The RKN escalation: samizdatd listens on 127.1.0.1 (in the clients' bootstrap) and on
// 127.2.0.1 (not in it). The operator publishes a network map listing 127.2.0.1, then
// nftables blocks all of 127.1.0.0/16. With no user action the clients must learn the new
// endpoint through one map channel and deliver the next message: (a) in-band (a map offered
// before the block), (b) an HTTPS mirror (a real nginx on 127.3.0.1), (c) DNS TXT (a real
// dnsmasq on 127.3.0.2:53, named by /etc/resolv.conf in a private mount namespace) or
// (d) a contact's message.
//
// (d) in detail, the most realistic setup this one-host harness allows: a map request needs a
// route both ways, so the contact exchange has to happen while some route still works.
// Alice runs a long-lived chat session opened while v1 was published (the server offers its
// map once per session, so her session never hears of v2), her v1 names no mirror and no DNS
// name, and her only endpoint is inside the /16 the censor is about to block. The operator
// publishes v2 (127.2.0.1); Bob's phone reconnects (a new session: offered v2 in-band) and he
// writes to her. His message carries his map digest; Alice's client asks him for v2 with a
// control message, his client answers with the signed bytes, hers checks them (root,
// signature, version, expiry) and keeps v2. Then 127.1.0.0/16 is blocked: without the
// contact channel Alice is cut off (no map in-band, no mirror, no DNS, no relay); with it her
// next message goes through 127.2.0.1. Zero user actions: the users only chat. Not covered
// here: the exchange over a route the censor leaves open after the block (a relay abroad
// needs a second network namespace with routing between them, which this harness lacks).
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include <sstream>

#include "../reach/dnsmasq_process.hpp"
#include "../reach/nginx_process.hpp"
#include "failover_support.hpp"
#include "reach/bootstrap.hpp"
#include "util/encoding.hpp"

namespace samizdat::integration {
namespace {

constexpr const char* kMirrorHost = "127.3.0.1";
constexpr const char* kDnsHost = "127.3.0.2";
constexpr const char* kDnsName = "map.samizdat.test";

// Captures the client's log lines (they say which channel a map came from).
class LogLines {
 public:
  LogLines() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("failover-map", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogLines() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

class FailoverMap : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PRIVATE_NETNS_AND_RESOLV_CONF(kDnsHost);
    clear_blocks();
    server_ = multi_endpoint_server(tmp_.path() / "server", {"127.1.0.1", "127.2.0.1"});
    ASSERT_NO_FATAL_FAILURE(server_->start());
    for (const auto& e : server_->endpoints()) (e.host == "127.1.0.1" ? old_ : hidden_) = e;
    ASSERT_EQ(old_.host, "127.1.0.1");
    ASSERT_EQ(hidden_.host, "127.2.0.1");
    samizdatd_map({"init-root", "--root-dir", (tmp_.path() / "root").string()});
    samizdatd_map({"certify-signing-key", "--dir", dir(), "--root-dir", (tmp_.path() / "root").string(),
                   "--valid-days", "30"});
    samizdatd_map({"add-endpoint", "--dir", dir(), old_.to_uri()});
  }
  void TearDown() override {
    alice_.reset();
    bob_.reset();
    if (!IsSkipped()) clear_blocks();
  }

  std::string dir() const { return (tmp_.path() / "server").string(); }
  fs::path out() const { return tmp_.path() / "out"; }
  void publish() { samizdatd_map({"publish", "--dir", dir(), "--out", out().string(), "--valid-days", "7"}); }
  void add_hidden_endpoint() { samizdatd_map({"add-endpoint", "--dir", dir(), hidden_.to_uri()}); }
  void add_mirror_and_dns(std::uint16_t mirror_port) {
    samizdatd_map(
        {"add-mirror", "--dir", dir(),
         std::string("https://") + kMirrorHost + ":" + std::to_string(mirror_port) + "/samizdat/map.bin",
         "--front-sni", "cdn.example", "--front-host", "hidden.example"});
    samizdatd_map({"add-dns-name", "--dir", dir(), kDnsName});
  }

  // What the operator hands out: only 127.1.0.1, and the map root the clients pin.
  std::string bootstrap() {
    auto parsed = reach::parse_bootstrap(server_->bootstrap());
    EXPECT_TRUE(parsed.ok());
    if (!parsed.ok()) return "";
    auto root_hex = read_text(tmp_.path() / "root" / "root.pub").substr(0, 64);
    auto root = hex_decode(root_hex);
    EXPECT_TRUE(root.ok() && root->size() == 32) << root_hex;
    if (!root.ok() || root->size() != 32) return "";
    crypto::Ed25519Public key{};
    std::copy(root->begin(), root->end(), key.begin());
    parsed->map_root = key;
    parsed->endpoints = {old_};
    auto text = reach::encode_bootstrap(*parsed);
    EXPECT_TRUE(text.ok());
    return text.ok() ? *text : "";
  }

  void start_clients() {
    auto line = bootstrap();
    ASSERT_FALSE(line.empty());
    auto pair = make_alice_and_bob(io_, tmp_.path(), line, failover_options);
    alice_ = std::move(pair.alice);
    bob_ = std::move(pair.bob);
    ASSERT_TRUE(alice_ && bob_);
    ASSERT_GE(send_and_receive("before the block", std::chrono::steady_clock::now()), 0) << server_->log();
  }

  // Both clients sync (as chat's loop does) until each holds map `version` (bounded: 10 s).
  bool wait_for_map(std::uint64_t version) {
    auto has = [&](client::Client& c) { return c.network_map() && c.network_map()->map.version >= version; };
    for (int i = 0; i < 100 && !(has(*alice_) && has(*bob_)); ++i) {
      (void)run_on(io_, alice_->sync(50ms));
      (void)run_on(io_, bob_->sync(50ms));
    }
    return has(*alice_) && has(*bob_);
  }

  // Alice sends, both keep syncing; ms from `start` until Bob has the message, or -1.
  double send_and_receive(const std::string& text, std::chrono::steady_clock::time_point start,
                          std::chrono::milliseconds limit = 60s) {
    return send_until_received(io_, *alice_, *bob_, text, start, limit);
  }

  // The block, then the next message; both clients end up on the hidden endpoint.
  void block_and_expect_recovery(const std::string& channel_line) {
    block_range("127.1.0.0/16");
    auto start = std::chrono::steady_clock::now();
    auto took = send_and_receive("after the block", start);
    EXPECT_GE(took, 0) << "Bob never got the message\n" << logs_.text() << server_->log();
    std::printf("[ %s ] delivered %.0f ms after the block\n", channel_line.c_str(), took);
    for (auto* c : {alice_.get(), bob_.get()}) {
      for (int i = 0; i < 50 && !c->active_endpoint(); ++i) (void)run_on(io_, c->sync(10ms));
      auto active = c->active_endpoint();
      ASSERT_TRUE(active.has_value());
      EXPECT_EQ(active->host, "127.2.0.1");
      ASSERT_NE(c->network_map(), nullptr);
    }
    EXPECT_NE(logs_.text().find(channel_line), std::string::npos) << logs_.text();
    EXPECT_GE(send_and_receive("and later", std::chrono::steady_clock::now()), 0);
  }

  TempDir tmp_;
  LogLines logs_;
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
  transport::Endpoint old_, hidden_;
  std::unique_ptr<client::Client> alice_, bob_;
};

TEST_F(FailoverMap, RecoversThroughAMapOfferedInBandBeforeTheBlock) {
  add_hidden_endpoint();
  publish();
  start_clients();
  ASSERT_TRUE(wait_for_map(1)) << logs_.text();
  block_and_expect_recovery("network map v1 accepted from server tcp://127.1.0.1");
}

TEST_F(FailoverMap, RecoversThroughAnHttpsMirrorWhenTheNewMapCameAfterItsLastSession) {
  reach::testing::Nginx nginx("hidden.example", kMirrorHost);
  // v1 (what the clients got in-band): 127.1.0.1, the mirror and the DNS name.
  add_mirror_and_dns(nginx.port());
  publish();
  start_clients();
  ASSERT_TRUE(wait_for_map(1)) << logs_.text();
  // v2 lists 127.2.0.1; it is on the mirror only (the running sessions were offered v1).
  add_hidden_endpoint();
  publish();
  fs::create_directories(nginx.www() / "samizdat");
  fs::copy_file(out() / "map.bin", nginx.www() / "samizdat" / "map.bin");
  block_and_expect_recovery("network map v2 accepted from mirror https://127.3.0.1");
  EXPECT_EQ(alice_->network_map()->map.version, 2u);
}

TEST_F(FailoverMap, RecoversThroughDnsTxtWhenTheMirrorIsDown) {
  // v1 names a mirror nobody serves (refused) and the DNS name.
  add_mirror_and_dns(443);
  publish();
  start_clients();
  ASSERT_TRUE(wait_for_map(1)) << logs_.text();
  add_hidden_endpoint();
  publish();
  reach::testing::Dnsmasq dns(read_text(out() / "dnsmasq-txt.conf"), kDnsHost, 53);
  ASSERT_TRUE(dns.fetch(kDnsName).ok()) << "dnsmasq does not answer";
  block_and_expect_recovery(std::string("network map v2 accepted from DNS ") + kDnsName);
  EXPECT_EQ(alice_->network_map()->map.version, 2u);
}

TEST_F(FailoverMap, RecoversThroughAContactsMessageWhenHerServerNeverOfferedTheNewMap) {
  // v1: 127.1.0.1 only, no mirror, no DNS name.
  publish();
  start_clients();
  ASSERT_TRUE(wait_for_map(1)) << logs_.text();
  add_hidden_endpoint();
  publish();  // v2 lists 127.2.0.1; running sessions were offered v1 and are not offered again
  auto version = [](client::Client& c) { return c.network_map() ? c.network_map()->map.version : 0; };

  // Later, Bob's phone reconnects (a network change): the new session is offered v2 in-band.
  // (The server looks at the published file at most once a second.)
  std::this_thread::sleep_for(1200ms);
  bob_->disconnect();
  for (int i = 0; i < 100 && version(*bob_) < 2; ++i) (void)run_on(io_, bob_->sync(50ms));
  ASSERT_EQ(version(*bob_), 2u) << logs_.text();
  ASSERT_EQ(version(*alice_), 1u) << "Alice's session must not have been offered v2\n" << logs_.text();

  // Without the contact channel Alice has no way to 127.2.0.1: it is in no map she holds.
  for (const auto& e : alice_->known_endpoints()) ASSERT_NE(e.host, "127.2.0.1");
  ASSERT_TRUE(alice_->network_map()->map.mirrors.empty() && alice_->network_map()->map.dns_names.empty());

  // Bob writes; both chat loops keep syncing. Alice learns v2 from Bob alone.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(bob_->queue_text("alice", "did you see the news?").ok());
  for (int i = 0; i < 200 && version(*alice_) < 2; ++i) {
    (void)run_on(io_, bob_->sync(20ms));
    (void)run_on(io_, alice_->sync(20ms));
  }
  double learned =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(version(*alice_), 2u) << logs_.text() << server_->log();
  std::printf("[ contact ] Alice accepted map v2 %.0f ms after Bob queued his message\n", learned);
  auto text = logs_.text();
  EXPECT_NE(text.find("contact bob has network map v2 (we have v1): asking for it"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sending network map v2 to contact alice"), std::string::npos) << text;
  // Alice and Bob log into the same capture: the one in-band acceptance of v2 is Bob's.
  auto count = [](const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(text, "network map v2 accepted from server"), 1u) << text;
  EXPECT_EQ(count(text, "network map v2 accepted from contact bob"), 1u) << text;

  // The request and the reply are control messages: neither user sees them.
  auto alice_sees = alice_->history("bob");
  auto bob_sees = bob_->history("alice");
  ASSERT_TRUE(alice_sees.ok() && bob_sees.ok());
  for (const auto* history : {&*alice_sees, &*bob_sees}) {
    for (const auto& m : *history) EXPECT_FALSE(m.body.empty());
  }
  EXPECT_EQ(alice_sees->size(), 2u);  // "before the block" and Bob's question

  block_and_expect_recovery("network map v2 accepted from contact bob");
  EXPECT_EQ(alice_->network_map()->map.version, 2u);
  // One request for one digest: later messages carrying the same digest ask nothing more.
  EXPECT_EQ(count(logs_.text(), "asking for it"), 1u) << logs_.text();
}

}  // namespace
}  // namespace samizdat::integration
