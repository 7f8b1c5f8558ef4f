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
#include "support/fork_child.hpp"

namespace samizdat::integration {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kNode = "/usr/bin/node";
constexpr const char* kNodeWs = "/usr/share/nodejs/ws/package.json";
constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kSecretPath = "/ws/7f3a9c";

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t length = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

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
    auto config = read_file(fs::path(SAMIZDAT_SOURCE_DIR) / "tests/integration/nginx/fronting.conf.in");
    config = replace_all(config, "@DIR@", dir_.string());
    config = replace_all(config, "@PORT@", std::to_string(port_));
    config = replace_all(config, "@CERT@", (dir_ / "cert.pem").string());
    config = replace_all(config, "@KEY@", (dir_ / "key.pem").string());
    config = replace_all(config, "@SECRET_PATH@", kSecretPath);
    config = replace_all(config, "@UPSTREAM@", upstream);
    std::ofstream(dir_ / "nginx.conf") << config;
  }
  ~NginxProcess() { stop(); }

  void start() {
    const std::string prefix = dir_.string() + "/", conf = (dir_ / "nginx.conf").string(),
                      error_log = (dir_ / "error.log").string(), stderr_log = (dir_ / "stderr.log").string();
    pid_ = samizdat::testing::fork_child();
    if (pid_ == 0) {
      int fd = ::open(stderr_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(kNginx, kNginx, "-p", prefix.c_str(), "-c", conf.c_str(), "-e", error_log.c_str(), "-g",
              "daemon off;", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "nginx exited at start: " << log();
      }
      if (accepts("127.0.0.1", port_)) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "nginx did not listen within 20 s: " << log();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGQUIT);  // graceful: nginx waits for its workers
    auto deadline = std::chrono::steady_clock::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
  }

  std::string log() const { return read_file(dir_ / "stderr.log") + read_file(dir_ / "error.log"); }
  std::string access_log() const { return read_file(dir_ / "access.log"); }

 private:
  fs::path dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
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
    std::string config = read_file(tmp_ / "server" / "config.toml");
    ASSERT_TRUE(std::regex_search(config, match, std::regex(R"(wss://127\.0\.0\.1:(\d+))"))) << config;
    upstream_ = "127.0.0.1:" + match[1].str();
    nginx_.emplace(tmp_ / "nginx", nginx_port_, upstream_);
    nginx_->start();
    server_->start();
    // start() waited for the advertised port, which is nginx's: wait for samizdatd's own.
    upstream_port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!accepts("127.0.0.1", upstream_port_) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(accepts("127.0.0.1", upstream_port_)) << server_->log();
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
  auto init = alice({"init", "--bootstrap", server_->bootstrap()});
  ASSERT_EQ(init.exit_code, 0) << init.err << nginx_->log() << server_->log();
  ASSERT_EQ(bob({"init", "--bootstrap", server_->bootstrap()}).exit_code, 0);
  ASSERT_EQ(alice({"contact", "add", "bob", bob.invite()}).exit_code, 0);
  ASSERT_EQ(bob({"contact", "add", "alice", alice.invite()}).exit_code, 0);

  ASSERT_EQ(alice({"send", "bob", "hello through the CDN"}).exit_code, 0);
  auto at_bob = bob({"recv"}).json_lines();
  ASSERT_EQ(at_bob.size(), 1u);
  EXPECT_EQ(at_bob[0]["text"], "hello through the CDN");
  ASSERT_EQ(bob({"send", "alice", "fronted reply"}).exit_code, 0);
  auto at_alice = alice({"recv"}).json_lines();
  ASSERT_EQ(at_alice.size(), 1u);
  EXPECT_EQ(at_alice[0]["text"], "fronted reply");

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
  auto index = read_file(fs::path(SAMIZDAT_SOURCE_DIR) / "share/cover-site/index.html");
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
