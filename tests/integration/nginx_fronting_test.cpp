// A real nginx plays the CDN in front of a real samizdatd wss listener. The client
// connects with TLS SNI front.example and HTTP Host hidden.example (domain fronting);
// nginx routes by Host: the secret path is proxied as a WebSocket to samizdatd, every
// other path to samizdatd's cover site, and front.example is an unrelated site.
// Two users chat through it with the real CLI, and an ordinary WebSocket client no one
// here wrote (node + the npm `ws` package) completes the upgrade on the secret path
// while other paths get the cover site. Skipped when nginx, node-ws, curl or openssl
// are missing (scripts/install-deps installs them).
#include <gtest/gtest.h>

#include <regex>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kNode = "/usr/bin/node";
constexpr const char* kNodeWs = "/usr/share/nodejs/ws/package.json";
constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kSecretPath = "/ws/7f3a9c";

// nginx as a child process with its own prefix, config, pid and logs, in the foreground.
class NginxProcess {
 public:
  NginxProcess(const fs::path& dir, std::uint16_t port, const std::string& upstream)
      : dir_(dir), port_(port) {
    fs::create_directories(dir_);
    auto cert = run_process({kOpenssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                             "-nodes", "-days", "30", "-subj", "/CN=front.example", "-addext",
                             "subjectAltName=DNS:front.example,DNS:hidden.example", "-keyout",
                             (dir_ / "key.pem").string(), "-out", (dir_ / "cert.pem").string()});
    EXPECT_EQ(cert.exit_code, 0) << cert.err;
    std::ofstream(dir_ / "nginx.conf") << fronting_nginx_config(dir_, port_, upstream, kSecretPath);
  }
  void start() {
    ChildOptions options;
    options.output = dir_ / "stderr.log";
    options.stop_signal = SIGQUIT;  // graceful: nginx waits for its workers
    options.stop_grace = 10s;
    options.stop_when_destroyed = true;
    auto started =
        ChildProcess::start({kNginx, "-p", dir_.string() + "/", "-c", (dir_ / "nginx.conf").string(), "-e",
                             (dir_ / "error.log").string(), "-g", "daemon off;"},
                            options);
    ASSERT_TRUE(started.ok()) << started.error().describe();
    process_ = std::move(*started);
    ASSERT_TRUE(wait_until_accepts("127.0.0.1", port_, 20s, [this] { return process_.running(); }))
        << (process_.running() ? "nginx did not listen within 20 s: " : "nginx exited at start: ") << log();
  }
  void stop() { process_.stop(); }

  std::string log() const { return read_text(dir_ / "stderr.log") + read_text(dir_ / "error.log"); }
  std::string access_log() const { return read_text(dir_ / "access.log"); }

 private:
  fs::path dir_;
  std::uint16_t port_;
  ChildProcess process_;
};

// An HTTPS GET through nginx with the given SNI and Host (curl, not our code).
ProcessResult fetch(std::uint16_t port, const std::string& sni, const std::string& host,
                    const std::string& path) {
  return run_process({kCurl, "-sk", "--max-time", "10", "-o", "-", "-w", "\nstatus=%{http_code}",
                      "--connect-to", sni + ":" + std::to_string(port) + ":127.0.0.1:" + std::to_string(port),
                      "-H", "Host: " + host, "https://" + sni + ":" + std::to_string(port) + path});
}

// node + npm ws: one line, "open" / "http STATUS" / "error ..." / "timeout".
std::string node_ws(std::uint16_t port, const std::string& path) {
  ::setenv("NODE_PATH", "/usr/share/nodejs", 1);  // where Debian's node-ws lives
  auto result =
      run_process({kNode, (fs::path(SAMIZDAT_SOURCE_DIR) / "tests/integration/nginx/ws_client.js").string(),
                   "wss://127.0.0.1:" + std::to_string(port) + path, "hidden.example", "front.example"},
                  30s);
  auto line = result.out;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line.empty() ? "no output: " + result.err : line;
}

class NginxFronting : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {kNginx, kNode, kNodeWs, kCurl, kOpenssl}) {
      if (!fs::exists(tool))
        GTEST_SKIP() << tool << " is missing: run scripts/install-deps (nginx-light, nodejs, node-ws)";
    }
    nginx_port_ = free_port();
    // samizdatd listens on wss behind nginx and tells clients to use nginx, fronted.
    std::string advertise = "wss://127.0.0.1:" + std::to_string(nginx_port_) + kSecretPath +
                            "?sni=front.example&host=hidden.example";
    server_.emplace(tmp_ / "server",
                    std::vector<std::string>{"--listen", std::string("wss://127.0.0.1:0") + kSecretPath,
                                             "--advertise", advertise});
    // The port samizdatd pinned at init.
    std::smatch match;
    std::string config = read_text(tmp_ / "server" / "config.toml");
    ASSERT_TRUE(std::regex_search(config, match, std::regex(R"(wss://127\.0\.0\.1:(\d+))"))) << config;
    upstream_ = "127.0.0.1:" + match[1].str();
    nginx_.emplace(tmp_ / "nginx", nginx_port_, upstream_);
    ASSERT_NO_FATAL_FAILURE(nginx_->start());
    // The bootstrap advertises nginx's port: wait for samizdatd's own.
    upstream_port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
    ASSERT_NO_FATAL_FAILURE(server_->start({{"127.0.0.1", upstream_port_}}));
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (nginx_) nginx_->stop();
  }

  TempDir tmp_;
  std::uint16_t nginx_port_ = 0;
  std::string upstream_;
  std::uint16_t upstream_port_ = 0;
  std::optional<ServerProcess> server_;
  std::optional<NginxProcess> nginx_;
};

TEST_F(NginxFronting, TwoUsersChatThroughNginxWithDomainFronting) {
  auto network = client::parse_network_config(server_->bootstrap());
  ASSERT_TRUE(network.ok());
  ASSERT_EQ(network->endpoints.size(), 1u);
  EXPECT_EQ(network->endpoints[0].scheme, "wss");
  EXPECT_EQ(network->endpoints[0].port, nginx_port_);
  EXPECT_EQ(network->endpoints[0].sni, "front.example");
  EXPECT_EQ(network->endpoints[0].host_header, "hidden.example");

  Cli alice(tmp_ / "alice"), bob(tmp_ / "bob");
  ASSERT_NO_FATAL_FAILURE(
      init_and_introduce(alice, bob, server_->bootstrap(), [&] { return nginx_->log() + server_->log(); }));
  ASSERT_NO_FATAL_FAILURE(expect_chat_both_ways(alice, bob, "hello through the CDN", "fronted reply"));

  // The connections really went through nginx, as WebSocket upgrades on the secret path.
  auto access = nginx_->access_log();
  EXPECT_NE(access.find(std::string("\"GET ") + kSecretPath + " HTTP/1.1\" 101"), std::string::npos)
      << access;
}

TEST_F(NginxFronting, AnOrdinaryWebSocketClientUpgradesOnlyOnTheSecretPath) {
  EXPECT_EQ(node_ws(nginx_port_, kSecretPath), "open") << nginx_->log();
  // Elsewhere the cover site answers, as it does any visitor.
  EXPECT_EQ(node_ws(nginx_port_, "/ws/other"), "http 404");
  EXPECT_EQ(node_ws(nginx_port_, "/"), "http 200");
}

TEST_F(NginxFronting, VisitorsSeeTheCoverSiteAndTheFrontSite) {
  // The hidden name's site root: samizdatd's cover site (the shipped default site).
  auto hidden_root = fetch(nginx_port_, "front.example", "hidden.example", "/");
  EXPECT_NE(hidden_root.out.find("status=200"), std::string::npos) << hidden_root.out << hidden_root.err;
  auto index = read_text(fs::path(SAMIZDAT_SOURCE_DIR) / "share/cover-site/index.html");
  ASSERT_FALSE(index.empty());
  EXPECT_EQ(hidden_root.out, index + "\nstatus=200");
  auto secret_without_upgrade = fetch(nginx_port_, "front.example", "hidden.example", kSecretPath);
  auto missing = fetch(nginx_port_, "front.example", "hidden.example", "/ws/other");
  EXPECT_NE(secret_without_upgrade.out.find("status=404"), std::string::npos) << secret_without_upgrade.out;
  EXPECT_EQ(secret_without_upgrade.out, missing.out);
  auto front = fetch(nginx_port_, "front.example", "front.example", "/");
  EXPECT_NE(front.out.find("front.example: nothing to see here"), std::string::npos) << front.out;
}

}  // namespace
}  // namespace samizdat::integration
