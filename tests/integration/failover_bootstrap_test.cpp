// A brand-new user in a censored network: all the bootstrap string's endpoints are already
// blocked (nftables drops 127.1.0.0/16) before the user ever runs samizdat. The string
// printed by `samizdatd map publish` carries the map's HTTPS mirror (fronted: SNI
// front.example, Host hidden.example; a real nginx on 127.3.0.1) and DNS name (a real
// dnsmasq on 127.3.0.2:53, named by /etc/resolv.conf in a private mount namespace). With
// the real CLI and no other help, `samizdat init` fetches the map through one of them,
// registers through the endpoint only the map lists (127.2.0.1), and two users chat.
#include <sys/mount.h>

#include "../reach/dnsmasq_process.hpp"
#include "../reach/nginx_process.hpp"
#include "failover_support.hpp"
#include "reach/bootstrap.hpp"

namespace samizdat::integration {
namespace {

constexpr const char* kMirrorHost = "127.3.0.1";
constexpr const char* kDnsHost = "127.3.0.2";
constexpr const char* kDnsName = "map.samizdat.test";
// Fixed ports: the namespace is private, nothing else listens in it.
constexpr std::uint16_t kOldPort = 21101, kHiddenPort = 21102;

class FailoverBootstrap : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PRIVATE_NETNS_AND_RESOLV_CONF(kDnsHost);
    clear_blocks();
    // The bootstrap names only 127.1.0.1; 127.2.0.1 is in the map alone.
    server_.emplace(
        dir(), std::vector<std::string>{"--listen", "tcp://127.1.0.1:" + std::to_string(kOldPort), "--listen",
                                        "tcp://127.2.0.1:" + std::to_string(kHiddenPort), "--advertise",
                                        "tcp://127.1.0.1:" + std::to_string(kOldPort)});
    samizdatd_map({"init-root", "--root-dir", (tmp_.path() / "root").string()});
    samizdatd_map(
        {"certify-signing-key", "--dir", dir().string(), "--root-dir", (tmp_.path() / "root").string()});
    samizdatd_map(
        {"add-endpoint", "--dir", dir().string(), "tcp://127.2.0.1:" + std::to_string(kHiddenPort)});
  }
  void TearDown() override {
    if (!IsSkipped()) clear_blocks();
  }

  fs::path dir() const { return tmp_.path() / "server"; }
  fs::path out() const { return tmp_.path() / "out"; }
  void add_channels(std::uint16_t mirror_port) {
    samizdatd_map(
        {"add-mirror", "--dir", dir().string(),
         std::string("https://") + kMirrorHost + ":" + std::to_string(mirror_port) + "/samizdat/map.bin",
         "--front-sni", "front.example", "--front-host", "hidden.example"});
    samizdatd_map({"add-dns-name", "--dir", dir().string(), kDnsName});
  }
  // `samizdatd map publish`: the bootstrap string it prints (and writes to bootstrap.txt).
  std::string publish() {
    auto result = samizdatd_map({"publish", "--dir", dir().string(), "--out", out().string()});
    auto at = result.out.find("bootstrap string");
    EXPECT_NE(at, std::string::npos) << result.out;
    if (at == std::string::npos) return "";
    auto line_start = result.out.find('\n', at) + 1;
    auto line = result.out.substr(line_start, result.out.find('\n', line_start) - line_start);
    auto file = read_text(dir() / "bootstrap.txt");
    EXPECT_EQ(file, line + "\n");
    auto parsed = reach::parse_bootstrap(line);
    EXPECT_TRUE(parsed.ok()) << line;
    if (parsed.ok()) {
      EXPECT_TRUE(parsed->map_root.has_value());
      EXPECT_EQ(parsed->endpoints.size(), 1u);
      EXPECT_EQ(parsed->mirrors.size(), 1u);
      if (!parsed->mirrors.empty()) {
        EXPECT_EQ(parsed->mirrors[0].front_sni, "front.example");
        EXPECT_EQ(parsed->mirrors[0].front_host, "hidden.example");
      }
      EXPECT_EQ(parsed->dns_names, std::vector<std::string>{kDnsName});
    }
    return line;
  }

  // Two brand-new users with nothing but `bootstrap`, behind the block, chat.
  void new_users_chat(const std::string& bootstrap, const std::string& channel_line) {
    ASSERT_NO_FATAL_FAILURE(server_->start({{"127.1.0.1", kOldPort}, {"127.2.0.1", kHiddenPort}}));
    ASSERT_NO_FATAL_FAILURE(block_range("127.1.0.0/16"));
    Cli alice(tmp_.path() / "alice"), bob(tmp_.path() / "bob");
    auto start = std::chrono::steady_clock::now();
    auto init = alice({"--log-level", "info", "init", "--bootstrap", bootstrap});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err << server_->log();
    std::printf("[ %s ] samizdat init took %.0f ms behind the block\n", channel_line.c_str(),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    EXPECT_NE(init.err.find(channel_line), std::string::npos) << init.err;
    auto bob_init = bob({"init", "--bootstrap", bootstrap});
    ASSERT_EQ(bob_init.exit_code, 0) << bob_init.err;
    ASSERT_EQ(alice({"contact", "add", "bob", bob.invite()}).exit_code, 0);
    ASSERT_EQ(bob({"contact", "add", "alice", alice.invite()}).exit_code, 0);
    auto sent = alice({"send", "bob", "hello from behind the block"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    auto at_bob = bob({"recv"}).json_lines();
    ASSERT_EQ(at_bob.size(), 1u);
    EXPECT_EQ(at_bob[0]["text"], "hello from behind the block");
    auto status = alice({"reach", "status"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    bool hidden_ok = false;
    for (const auto& line : status.json_lines()) {
      hidden_ok = hidden_ok || (line["endpoint"].get<std::string>().rfind("tcp://127.2.0.1:", 0) == 0 &&
                                line["state"] == "ok");
    }
    EXPECT_TRUE(hidden_ok) << status.out;
  }

  TempDir tmp_;
  std::optional<ServerProcess> server_;
};

TEST_F(FailoverBootstrap, ANewClientWithOnlyTheBootstrapGetsInThroughItsFrontedMirror) {
  reach::testing::Nginx nginx("hidden.example", kMirrorHost);
  add_channels(nginx.port());
  auto bootstrap = publish();
  ASSERT_FALSE(bootstrap.empty());
  fs::create_directories(nginx.www() / "samizdat");
  fs::copy_file(out() / "map.bin", nginx.www() / "samizdat" / "map.bin");
  new_users_chat(bootstrap, "network map v1 accepted from mirror https://127.3.0.1");
}

TEST_F(FailoverBootstrap, ANewClientWithOnlyTheBootstrapGetsInThroughItsDnsName) {
  add_channels(443);  // the mirror is down (nothing listens): DNS TXT carries the map
  auto bootstrap = publish();
  ASSERT_FALSE(bootstrap.empty());
  reach::testing::Dnsmasq dns(read_text(out() / "dnsmasq-txt.conf"), kDnsHost, 53);
  ASSERT_TRUE(dns.fetch(kDnsName).ok()) << "dnsmasq does not answer";
  new_users_chat(bootstrap, std::string("network map v1 accepted from DNS ") + kDnsName);
}

}  // namespace
}  // namespace samizdat::integration
