// Two users chat through a real samizdatd that listens only on wss (TLS, WebSocket on a
// secret path), using the real `samizdat` CLI and the bootstrap string the server printed.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

TEST(WssChat, TwoUsersChatThroughAWssOnlyServer) {
  TempDir tmp;
  ServerProcess server(tmp / "server", {"--listen", "wss://127.0.0.1:0/chat/5e1f0a"});
  ASSERT_EQ(server.endpoints().size(), 1u) << server.bootstrap();
  const auto endpoint = server.endpoints()[0];
  EXPECT_EQ(endpoint.scheme, "wss");
  EXPECT_EQ(endpoint.path, "/chat/5e1f0a");
  ASSERT_NO_FATAL_FAILURE(server.start());

  Cli alice(tmp / "alice"), bob(tmp / "bob");
  ASSERT_NO_FATAL_FAILURE(init_and_introduce(alice, bob, server.bootstrap(), [&] { return server.log(); }));
  ASSERT_NO_FATAL_FAILURE(expect_chat_both_ways(alice, bob, "hello over wss", "and back again"));
  server.stop();
}

}  // namespace
}  // namespace samizdat::integration
