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
  ASSERT_EQ(server.endpoints().size(), 1u) << server.bootstrap();
  const auto endpoint = server.endpoints()[0];
  EXPECT_EQ(endpoint.scheme, "obfs");
  EXPECT_EQ(endpoint.shaping, GetParam());
  ASSERT_NO_FATAL_FAILURE(server.start());

  Cli alice(tmp / "alice"), bob(tmp / "bob");
  ASSERT_NO_FATAL_FAILURE(init_and_introduce(alice, bob, server.bootstrap(), [&] { return server.log(); }));
  ASSERT_NO_FATAL_FAILURE(expect_chat_both_ways(alice, bob, "hello over obfs", "and back again"));
  server.stop();
}

INSTANTIATE_TEST_SUITE_P(Shaping, ObfsChat, ::testing::Values("", "popcount"));

}  // namespace
}  // namespace samizdat::integration
