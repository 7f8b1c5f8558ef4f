// Two users chat through a real samizdatd that listens only on wss (TLS, WebSocket on a
// secret path), using the real `samizdat` CLI and the bootstrap string the server printed.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

TEST(WssChat, TwoUsersChatThroughAWssOnlyServer) {
  TempDir tmp;
  ServerProcess server(tmp / "server", {"--listen", "wss://127.0.0.1:0/chat/5e1f0a"});
  auto network = client::parse_network_config(server.bootstrap());
  ASSERT_TRUE(network.ok());
  ASSERT_EQ(network->endpoints.size(), 1u);
  EXPECT_EQ(network->endpoints[0].scheme, "wss");
  EXPECT_EQ(network->endpoints[0].path, "/chat/5e1f0a");
  server.start();

  Cli alice(tmp / "alice"), bob(tmp / "bob");
  auto init = alice({"init", "--bootstrap", server.bootstrap()});
  ASSERT_EQ(init.exit_code, 0) << init.err << server.log();
  ASSERT_EQ(bob({"init", "--bootstrap", server.bootstrap()}).exit_code, 0);
  ASSERT_EQ(alice({"contact", "add", "bob", bob.invite()}).exit_code, 0);
  ASSERT_EQ(bob({"contact", "add", "alice", alice.invite()}).exit_code, 0);

  ASSERT_EQ(alice({"send", "bob", "hello over wss"}).exit_code, 0);
  auto at_bob = bob({"recv"}).json_lines();
  ASSERT_EQ(at_bob.size(), 1u);
  EXPECT_EQ(at_bob[0]["text"], "hello over wss");

  ASSERT_EQ(bob({"send", "alice", "and back again"}).exit_code, 0);
  auto at_alice = alice({"recv"}).json_lines();
  ASSERT_EQ(at_alice.size(), 1u);
  EXPECT_EQ(at_alice[0]["text"], "and back again");
  server.stop();
}

}  // namespace
}  // namespace samizdat::integration
