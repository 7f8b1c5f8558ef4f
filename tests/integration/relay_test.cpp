// A client that can reach only a volunteer relay still chats: the server moves to a port
// the clients do not know (their bootstrap endpoint is now dead), a `samizdatd relay`
// on another loopback address is given the new bootstrap, and both users add the
// relay's share link. Everything runs as the real binaries.
// (The dead-endpoint setup needs no root; the censor testbed's netns/nftables blocking
// is not needed to make the direct path fail.)
#include <gtest/gtest.h>

#include "integration_support.hpp"
#include "reach/bootstrap.hpp"

namespace samizdat::integration {
namespace {

// A long-running program with its output in `log`; SIGTERM (SIGKILL after 20 s) when it goes away.
ChildProcess start_daemon(std::vector<std::string> argv, const fs::path& log) {
  ChildOptions options;
  options.output = log;
  options.stop_grace = 20s;
  options.stop_when_destroyed = true;
  auto started = ChildProcess::start(std::move(argv), options);
  EXPECT_TRUE(started.ok()) << started.error().describe();
  return started.ok() ? std::move(*started) : ChildProcess();
}

template <class F>
bool eventually(F condition, std::chrono::milliseconds within = 20s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(Relay, UsersWhoCanReachOnlyARelayStillChatBothWays) {
  TempDir tmp;
  ServerProcess server(tmp / "server");
  ASSERT_NO_FATAL_FAILURE(server.start());
  Cli alice(tmp / "alice"), bob(tmp / "bob");
  ASSERT_NO_FATAL_FAILURE(init_and_introduce(alice, bob, server.bootstrap()));
  server.stop();

  // The server comes back on a port the clients do not know: their endpoint is dead.
  std::uint16_t old_port = server.port();
  std::uint16_t new_port = free_port();
  auto config = read_text(server.dir() / "config.toml");
  auto at = config.find("127.0.0.1:" + std::to_string(old_port));
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, std::string("127.0.0.1:" + std::to_string(old_port)).size(),
                 "127.0.0.1:" + std::to_string(new_port));
  {
    std::ofstream out(server.dir() / "config.toml", std::ios::trunc);
    out << config;
  }
  auto bootstrap = reach::parse_bootstrap(server.bootstrap());
  ASSERT_TRUE(bootstrap.ok());
  bootstrap->endpoints.at(0).port = new_port;
  auto upstream = reach::encode_bootstrap(*bootstrap);
  ASSERT_TRUE(upstream.ok());
  auto moved =
      start_daemon({program("samizdatd").string(), "run", "--dir", server.dir().string()}, tmp / "moved.log");
  ASSERT_TRUE(wait_until_accepts("127.0.0.1", new_port, 20s)) << read_text(tmp / "moved.log");
  EXPECT_FALSE(accepts("127.0.0.1", old_port));

  // A relay on another loopback address, serving the network at its new address.
  auto relay = start_daemon({program("samizdatd").string(), "relay", "--dir", (tmp / "relay").string(),
                             "--upstream", *upstream, "--listen", "tcp://127.0.0.2:0"},
                            tmp / "relay.log");
  ASSERT_TRUE(eventually([&] { return fs::exists(tmp / "relay" / "share.txt"); }))
      << read_text(tmp / "relay.log");
  auto link = trim_end(read_text(tmp / "relay" / "share.txt"));
  ASSERT_TRUE(link.starts_with("samizdat-relay1:")) << link;
  EXPECT_NE(read_text(tmp / "relay.log").find(link), std::string::npos) << "the link is printed too";

  // Without the relay, nothing gets through.
  EXPECT_NE(alice({"send", "bob", "lost in the void"}, 60s).exit_code, 0);

  for (auto* cli : {&alice, &bob}) {
    auto added = (*cli)({"relay", "add", link});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    EXPECT_NE((*cli)({"relay", "add", link}).exit_code, 0) << "adding the same relay twice is refused";
    auto listed = (*cli)({"relay", "list"}).json_lines();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["link"], link);
  }

  auto sent = alice({"--log-level", "info", "send", "bob", "hello through the relay"}, 60s);
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_NE(sent.err.find("connected through relay tcp://127.0.0.2:"), std::string::npos) << sent.err;
  auto at_bob = bob({"recv"}, 60s).json_lines();
  bool found = false;
  for (const auto& line : at_bob) found = found || line.value("text", "") == "hello through the relay";
  EXPECT_TRUE(found) << "bob got: " << nlohmann::json(at_bob).dump();

  ASSERT_EQ(bob({"send", "alice", "and back through it"}, 60s).exit_code, 0);
  auto at_alice = alice({"recv"}, 60s).json_lines();
  found = false;
  for (const auto& line : at_alice) found = found || line.value("text", "") == "and back through it";
  EXPECT_TRUE(found) << "alice got: " << nlohmann::json(at_alice).dump();

  EXPECT_EQ(relay.stop(), 0) << read_text(tmp / "relay.log");
  EXPECT_EQ(moved.stop(), 0) << read_text(tmp / "moved.log");
  EXPECT_EQ(read_text(tmp / "relay.log").find("hello through the relay"), std::string::npos);
}

}  // namespace
}  // namespace samizdat::integration
