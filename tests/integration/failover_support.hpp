// Failover harness: this test process moves into its own network namespace (root only;
// tests skip otherwise), runs one samizdatd listening on several 127.x addresses, two
// in-process long-running clients, and blocks endpoints with real nftables rules on lo
// (silent drop, TCP reset, or a rate limit like the TSPU's throttling).
#pragma once

#include <arpa/inet.h>
#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <cstring>

#include "integration_support.hpp"

namespace samizdat::integration {

// Empty when this process now runs in a private network namespace with lo up (MTU 1500,
// so a probe is many packets as on a real link) and nft works; otherwise why not.
inline std::string enter_private_netns() {
  static const std::string reason = []() -> std::string {
    if (::geteuid() != 0) return "not root";
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    auto up = run_process({system_tool("ip"), "link", "set", "lo", "up", "mtu", "1500"}, 10s);
    if (up.exit_code != 0) return "ip link set lo up: " + up.err;
    auto nft = run_process(
        {system_tool("nft"), "-f", "-"}, 10s,
        "table inet szfail {\n chain out {\n  type filter hook output priority 0; policy accept;\n }\n}\n");
    if (nft.exit_code != 0) return "nft: " + nft.out + nft.err;
    return "";
  }();
  return reason;
}

#define SKIP_WITHOUT_PRIVATE_NETNS()                                                                      \
  do {                                                                                                    \
    const auto why_ = ::samizdat::integration::enter_private_netns();                                     \
    if (!why_.empty()) GTEST_SKIP() << "needs root for a private network namespace + nftables: " << why_; \
  } while (0)

enum class Block { drop, reset, throttle };

inline const char* to_string(Block block) {
  switch (block) {
    case Block::drop:
      return "drop";
    case Block::reset:
      return "reset";
    default:
      return "throttle";
  }
}

// Applies `block` to traffic to and from `endpoint` (both directions cross lo's output hook).
inline void apply_block(Block block, const transport::Endpoint& endpoint) {
  std::string to = "ip daddr " + endpoint.host + " tcp dport " + std::to_string(endpoint.port);
  std::string from = "ip saddr " + endpoint.host + " tcp sport " + std::to_string(endpoint.port);
  std::string verdict;
  switch (block) {
    case Block::drop:
      verdict = "drop";
      break;
    case Block::reset:
      verdict = "reject with tcp reset";
      break;
    case Block::throttle:
      // ~150 kbit/s, packets over the rate dropped (how the TSPU throttled Twitter in 2021).
      verdict = "limit rate over 18 kbytes/second drop";
      break;
  }
  // The RST that `reject` sends the client leaves from the server's address and port:
  // it must not be caught by the rule for that direction.
  if (block == Block::reset) from += " tcp flags & rst == 0";
  std::string script = "add rule inet szfail out " + to + " " + verdict + "\nadd rule inet szfail out " +
                       from + " " + verdict + "\n";
  auto result = run_process({system_tool("nft"), "-f", "-"}, 10s, script);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

// Drops all traffic to and from `cidr` (e.g. a whole /16, as the RKN did).
inline void block_range(const std::string& cidr) {
  auto result = run_process({system_tool("nft"), "-f", "-"}, 10s,
                            "add rule inet szfail out ip daddr " + cidr + " drop\n" +
                                "add rule inet szfail out ip saddr " + cidr + " drop\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

// `samizdatd map ARGS`: the operator's map commands; a test failure when one fails.
inline ProcessResult samizdatd_map(std::vector<std::string> args) {
  args.insert(args.begin(), {program("samizdatd").string(), "map"});
  auto result = run_process(args, 60s);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  return result;
}

inline void clear_blocks() {
  auto result = run_process({system_tool("nft"), "flush", "chain", "inet", "szfail", "out"}, 10s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

// samizdatd init'd to listen on tcp://HOST:0 for each of `hosts` (start() runs it).
inline std::unique_ptr<ServerProcess> multi_endpoint_server(const fs::path& dir,
                                                            const std::vector<std::string>& hosts) {
  std::vector<std::string> args;
  for (const auto& host : hosts) args.insert(args.end(), {"--listen", "tcp://" + host + ":0"});
  return std::make_unique<ServerProcess>(dir, args);
}

// Long-running client options, tightened for loopback (a real network uses the defaults
// of client::long_running).
inline client::ClientOptions failover_options(const fs::path& home) {
  auto options = client::long_running(in_process_options(home));
  options.race.attempt_timeout = 2s;
  options.keepalive.interval = 250ms;
  options.keepalive.dead_after = 800ms;
  options.keepalive.probe_bytes = 32 * 1024;
  options.keepalive.probe_interval = 1s;
  options.keepalive.suspicious_interval = 250ms;
  options.keepalive.throttle.window = 3s;
  options.keepalive.throttle.rtt_slack = 1s;
  return options;
}

// One conversation across a multi-endpoint server, with the blocks applied mid-way.
class FailoverHarness {
 public:
  explicit FailoverHarness(const fs::path& root)
      : server_(
            multi_endpoint_server(root / "server", {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"})) {
    server_->start();
    if (!server_->running()) return;
    auto pair = make_alice_and_bob(io_, root, server_->bootstrap(), failover_options);
    alice_ = std::move(pair.alice);
    bob_ = std::move(pair.bob);
  }
  bool ready() const { return alice_ && bob_; }
  client::Client& alice() { return *alice_; }
  client::Client& bob() { return *bob_; }
  ServerProcess& server() { return *server_; }
  asio::io_context& io() { return io_; }

  // What the app does anyway: send, and keep syncing (chat's loop). Returns ms from
  // `start` until the server held the message (sent) and until Bob had it (received);
  // negative when it did not happen within `limit`.
  struct Timing {
    double sent_ms = -1;
    double received_ms = -1;
  };
  Timing send_and_receive(const std::string& text, std::chrono::steady_clock::time_point start,
                          std::chrono::milliseconds limit = 30s) {
    Timing timing;
    auto ms = [&] {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    };
    EXPECT_TRUE(alice_->queue_text("bob", text).ok());
    auto deadline = start + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto flushed = run_on(io_, alice_->flush_outbox());
      if (flushed.ok() && flushed->pending == 0 && flushed->sent > 0) {
        timing.sent_ms = ms();
        break;
      }
      if (!flushed.ok()) std::this_thread::sleep_for(50ms);
    }
    while (timing.sent_ms >= 0 && std::chrono::steady_clock::now() < deadline) {
      auto got = incoming(*bob_, "alice");
      if (std::any_of(got.begin(), got.end(), [&](const auto& m) { return m.body == text; })) {
        timing.received_ms = ms();
        break;
      }
      auto synced = run_on(io_, bob_->sync(100ms));
      if (!synced.ok()) std::this_thread::sleep_for(50ms);
    }
    return timing;
  }

  // Both clients connected (device connections open), e.g. before a block: what their
  // sync loops do anyway.
  // `idle` first lets the keepalives run (a connection nobody used since a block is
  // noticed by its next ping).
  void settle(std::chrono::milliseconds idle = 0ms) {
    if (idle.count() > 0) (void)run_on(io_, alice_->sync(idle));
    for (int i = 0; i < 50 && !(alice_->active_endpoint() && bob_->active_endpoint()); ++i) {
      auto a = run_on(io_, alice_->sync(10ms));
      auto b = run_on(io_, bob_->sync(10ms));
      if (!a.ok() || !b.ok()) std::this_thread::sleep_for(20ms);
    }
  }

 private:
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::Client> alice_;
  std::unique_ptr<client::Client> bob_;
};

// /etc/resolv.conf is the system's: a private mount namespace lets this process (and the
// CLI it starts) see one that names the test's DNS server. Must run before any thread
// starts (unshare(CLONE_NEWNS) refuses a multithreaded process), hence once, up front.
// Empty when done, otherwise why not.
inline std::string private_resolv_conf(const std::string& name_server) {
  static const std::string reason = [&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return std::string("mount --make-rprivate /: ") + std::strerror(errno);
    static const fs::path file =
        fs::temp_directory_path() / ("samizdat-resolv-" + std::to_string(::getpid()));
    std::ofstream(file) << "nameserver " << name_server << "\n";
    const bool mounted = ::mount(file.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) == 0;
    const int mount_errno = errno;
    // The mount keeps the file alive for this namespace; the name need not outlive the test.
    fs::remove(file);
    if (!mounted) return std::string("bind-mount /etc/resolv.conf: ") + std::strerror(mount_errno);
    return "";
  }();
  return reason;
}

// Both, for the tests whose client resolves a DNS name served in the test (must run before
// any thread starts, as private_resolv_conf says).
#define SKIP_WITHOUT_PRIVATE_NETNS_AND_RESOLV_CONF(name_server)                            \
  do {                                                                                     \
    SKIP_WITHOUT_PRIVATE_NETNS();                                                          \
    const auto mounts_ = ::samizdat::integration::private_resolv_conf(name_server);        \
    if (!mounts_.empty())                                                                  \
      GTEST_SKIP() << "needs a private mount namespace for /etc/resolv.conf: " << mounts_; \
  } while (0)

}  // namespace samizdat::integration
