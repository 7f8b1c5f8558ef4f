// Two users chat through a real samizdatd that listens only on obfs, using the real
// `samizdat` CLI and the bootstrap string the server printed.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

class ObfsChat : public ::testing::TestWithParam<std::string> {};

TEST_P(ObfsChat, TwoUsersChatThroughAnObfsOnlyServer) {
  TempDir tmp;
  std::string listen = "obfs://127.0.0.1:0" + (GetParam().empty() ? "" : "?shaping=" + GetParam());
  ServerProcess server(tmp / "server", {"--listen", listen});
  auto network = client::parse_network_config(server.bootstrap());
  ASSERT_TRUE(network.ok());
  ASSERT_EQ(network->endpoints.size(), 1u);
  EXPECT_EQ(network->endpoints[0].scheme, "obfs");
  EXPECT_EQ(network->endpoints[0].shaping, GetParam());
  server.start();

  Cli alice(tmp / "alice"), bob(tmp / "bob");
  auto alice_init = alice({"init", "--bootstrap", server.bootstrap()});
  ASSERT_EQ(alice_init.exit_code, 0) << alice_init.err << "\n" << server.log();
  auto bob_init = bob({"init", "--bootstrap", server.bootstrap()});
  ASSERT_EQ(bob_init.exit_code, 0) << bob_init.err << "\n" << server.log();
  ASSERT_EQ(alice({"contact", "add", "bob", bob.invite()}).exit_code, 0);
  ASSERT_EQ(bob({"contact", "add", "alice", alice.invite()}).exit_code, 0);

  ASSERT_EQ(alice({"send", "bob", "hello over obfs"}).exit_code, 0);
  auto at_bob = bob({"recv"}).json_lines();
  ASSERT_EQ(at_bob.size(), 1u);
  EXPECT_EQ(at_bob[0]["text"], "hello over obfs");

  ASSERT_EQ(bob({"send", "alice", "and back again"}).exit_code, 0);
  auto at_alice = alice({"recv"}).json_lines();
  ASSERT_EQ(at_alice.size(), 1u);
  EXPECT_EQ(at_alice[0]["text"], "and back again");
  server.stop();
}

INSTANTIATE_TEST_SUITE_P(Shaping, ObfsChat, ::testing::Values("", "popcount"));

}  // namespace
}  // namespace samizdat::integration
