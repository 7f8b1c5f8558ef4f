// "Block everything but a fronted wss endpoint behind nginx: chat continues" (issue #5).
// In a private network namespace: samizdatd listens on tcp 127.1.0.1, obfs 127.1.0.2,
// tls 127.1.0.3 and wss 127.1.0.4; a real nginx (Debian nginx-light) on 127.4.0.1 plays the
// CDN in front of the wss listener (TLS SNI front.example, HTTP Host hidden.example, the
// secret path proxied as a WebSocket; it reaches the origin from 127.5.0.1, its "back
// side"). The clients know all four endpoints from the bootstrap string and start on a
// direct one. Mid-conversation nftables silently drops every TCP packet that is not to or
// from the CDN: the next messages arrive with no user action, the clients are on the wss
// endpoint, and `samizdat reach status` (the real CLI) ranks it first as working.
#include <gtest/gtest.h>

#include "failover_support.hpp"
#include "transport/https/tls_stream.hpp"

namespace samizdat::integration {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kSecretPath = "/ws/7f3a9c";
constexpr const char* kCdnHost = "127.4.0.1";
constexpr const char* kCdnBackSide = "127.5.0.1";
constexpr std::uint16_t kCdnPort = 8443;
// Fixed ports: the namespace is private, nothing else listens in it.
constexpr std::uint16_t kTcpPort = 21001, kObfsPort = 21002, kTlsPort = 21003, kWssPort = 21004;

// nginx from tests/integration/nginx/fronting.conf.in, listening on the CDN address and
// connecting to the origin from its back-side address. One process (master_process off), so
// killing it leaves no worker holding the port for the next test.
class CdnNginx {
 public:
  CdnNginx(const fs::path& dir, const std::string& upstream) : dir_(dir) {
    fs::create_directories(dir_);
    auto written =
        transport::https::write_self_signed_certificate(dir_ / "cert.pem", dir_ / "key.pem", "front.example");
    EXPECT_TRUE(written.ok());
    auto config = fronting_nginx_config(dir_, kCdnPort, upstream, kSecretPath);
    config = replace_all(config, "listen 127.0.0.1:", std::string("listen ") + kCdnHost + ":");
    config = replace_all(config, "  server_tokens off;\n",
                         std::string("  server_tokens off;\n  proxy_bind ") + kCdnBackSide + ";\n");
    std::ofstream(dir_ / "nginx.conf") << config;
    ChildOptions options;
    options.output = dir_ / "stderr.log";
    auto started =
        ChildProcess::start({kNginx, "-p", dir_.string() + "/", "-c", (dir_ / "nginx.conf").string(), "-e",
                             (dir_ / "error.log").string(), "-g", "daemon off; master_process off;"},
                            options);
    EXPECT_TRUE(started.ok()) << started.error().describe();
    if (started.ok()) process_ = std::move(*started);
    EXPECT_TRUE(wait_until_accepts(kCdnHost, kCdnPort, 20s)) << log();
  }
  std::string log() const { return read_text(dir_ / "stderr.log") + read_text(dir_ / "error.log"); }
  std::string access_log() const { return read_text(dir_ / "access.log"); }

 private:
  fs::path dir_;
  ChildProcess process_;  // SIGKILLed with the object: no worker holds the port for the next test
};

// The censor: every TCP packet not to or from the CDN (front or back side) is dropped.
void block_all_but_the_cdn() {
  std::string allowed = std::string("{ ") + kCdnHost + ", " + kCdnBackSide + " }";
  std::string script = "add rule inet szfail out ip daddr " + allowed + " accept\n" +
                       "add rule inet szfail out ip saddr " + allowed + " accept\n" +
                       "add rule inet szfail out meta l4proto tcp drop\n";
  auto result = run_process({system_tool("nft"), "-f", "-"}, 10s, script);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

class FailoverWss : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kNginx)) GTEST_SKIP() << kNginx << " is missing: run scripts/install-deps (nginx-light)";
    SKIP_WITHOUT_PRIVATE_NETNS();
    clear_blocks();
    auto port = [](std::uint16_t p) { return ":" + std::to_string(p); };
    std::vector<std::string> args{
        "--listen", std::string("tcp://127.1.0.1") + port(kTcpPort), "--listen",
        std::string("obfs://127.1.0.2") + port(kObfsPort), "--listen",
        std::string("tls://127.1.0.3") + port(kTlsPort), "--listen",
        std::string("wss://127.1.0.4") + port(kWssPort) + kSecretPath,
        // Clients are told the direct endpoints and the fronted one (last: least preferred).
        "--advertise", std::string("tcp://127.1.0.1") + port(kTcpPort), "--advertise",
        std::string("obfs://127.1.0.2") + port(kObfsPort), "--advertise",
        std::string("tls://127.1.0.3") + port(kTlsPort), "--advertise",
        std::string("wss://") + kCdnHost + port(kCdnPort) + kSecretPath +
            "?sni=front.example&host=hidden.example"};
    server_.emplace(tmp_.path() / "server", args);
    nginx_.emplace(tmp_.path() / "nginx", std::string("127.1.0.4") + port(kWssPort));
    ASSERT_NO_FATAL_FAILURE(server_->start({{"127.1.0.1", kTcpPort},
                                            {"127.1.0.2", kObfsPort},
                                            {"127.1.0.3", kTlsPort},
                                            {"127.1.0.4", kWssPort}}));
  }
  void TearDown() override {
    alice_.reset();
    bob_.reset();
    if (!IsSkipped()) clear_blocks();
  }

  void start_clients() {
    auto pair = make_alice_and_bob(io_, tmp_.path(), server_->bootstrap(), failover_options,
                                   [&] { return server_->log(); });
    alice_ = std::move(pair.alice);
    bob_ = std::move(pair.bob);
    ASSERT_TRUE(alice_ && bob_);
  }

  // Alice sends, both keep syncing; ms from `start` until Bob has the message, or -1.
  double send_and_receive(const std::string& text, std::chrono::steady_clock::time_point start,
                          std::chrono::milliseconds limit = 60s) {
    return send_until_received(io_, *alice_, *bob_, text, start, limit);
  }

  TempDir tmp_;
  std::optional<ServerProcess> server_;
  std::optional<CdnNginx> nginx_;
  asio::io_context io_;
  std::unique_ptr<client::Client> alice_, bob_;
};

TEST_F(FailoverWss, ChatContinuesThroughTheFrontedWssEndpointWhenEverythingElseIsBlocked) {
  auto network = client::parse_network_config(server_->bootstrap());
  ASSERT_TRUE(network.ok());
  ASSERT_EQ(network->endpoints.size(), 4u);
  EXPECT_EQ(network->endpoints[3].scheme, "wss");
  EXPECT_EQ(network->endpoints[3].sni, "front.example");
  EXPECT_EQ(network->endpoints[3].host_header, "hidden.example");

  start_clients();
  ASSERT_GE(send_and_receive("before the block", std::chrono::steady_clock::now()), 0) << server_->log();
  // Both on a direct endpoint (the operator's preferred ones) before the censor acts.
  for (auto* c : {alice_.get(), bob_.get()}) {
    for (int i = 0; i < 50 && !c->active_endpoint(); ++i) (void)run_on(io_, c->sync(10ms));
    auto active = c->active_endpoint();
    ASSERT_TRUE(active.has_value());
    EXPECT_NE(active->scheme, "wss") << active->to_uri();
  }

  block_all_but_the_cdn();
  auto start = std::chrono::steady_clock::now();
  auto took = send_and_receive("after the block", start);
  ASSERT_GE(took, 0) << "Bob never got the message\n" << server_->log() << nginx_->log();
  std::printf("[ wss-only ] delivered %.0f ms after the block\n", took);
  for (const char* text : {"second after the block", "third after the block"}) {
    EXPECT_GE(send_and_receive(text, std::chrono::steady_clock::now()), 0) << text;
  }
  // Bob answers through the CDN too.
  ASSERT_TRUE(bob_->queue_text("alice", "reply through the CDN").ok());
  bool replied = false;
  for (int i = 0; i < 100 && !replied; ++i) {
    (void)run_on(io_, bob_->flush_outbox());
    (void)run_on(io_, alice_->sync(100ms));
    auto got = incoming(*alice_, "bob");
    replied =
        std::any_of(got.begin(), got.end(), [](const auto& m) { return m.body == "reply through the CDN"; });
  }
  EXPECT_TRUE(replied);

  // The client API: both are on the fronted wss endpoint.
  for (auto* c : {alice_.get(), bob_.get()}) {
    for (int i = 0; i < 50 && !c->active_endpoint(); ++i) (void)run_on(io_, c->sync(10ms));
    auto active = c->active_endpoint();
    ASSERT_TRUE(active.has_value());
    EXPECT_EQ(active->scheme, "wss");
    EXPECT_EQ(active->host, kCdnHost);
    EXPECT_EQ(active->sni, "front.example");
    EXPECT_EQ(active->host_header, "hidden.example");
  }
  // The real CLI, on Alice's account (the in-process clients closed first): reach status
  // ranks the wss endpoint first as working and says why the others are not.
  alice_.reset();
  bob_.reset();
  // The connections went through nginx as WebSocket upgrades on the secret path (nginx logs
  // a request when it ends: once the clients closed their connections).
  const std::string upgrade = std::string("\"GET ") + kSecretPath + " HTTP/1.1\" 101";
  for (int i = 0; i < 100 && nginx_->access_log().find(upgrade) == std::string::npos; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_NE(nginx_->access_log().find(upgrade), std::string::npos) << nginx_->access_log();
  Cli alice_cli(tmp_.path() / "alice");
  auto status = alice_cli({"reach", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto lines = status.json_lines();
  ASSERT_EQ(lines.size(), 4u) << status.out;
  EXPECT_EQ(lines[0]["endpoint"].get<std::string>().rfind("wss://127.4.0.1:8443", 0), 0u) << status.out;
  EXPECT_EQ(lines[0]["state"], "ok") << status.out;
  std::size_t failing = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto state = lines[i]["state"].get<std::string>();
    failing += state == "failing" || state == "backing-off" || state == "suspect";
  }
  EXPECT_GE(failing, 1u) << status.out;
  // And a one-shot command goes through the CDN while the block stays.
  auto sent = alice_cli({"send", "bob", "from the command line, through the CDN"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
}

}  // namespace
}  // namespace samizdat::integration
