// Two users chat through a real samizdatd that listens only on tls (with the self-signed
// certificate `samizdatd init` wrote), using the real `samizdat` CLI and the bootstrap
// string; meanwhile the same port shows curl the shipped cover site.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

TEST(TlsChat, TwoUsersChatThroughATlsOnlyServerThatShowsVisitorsAWebsite) {
  TempDir tmp;
  ServerProcess server(tmp / "server", {"--listen", "tls://127.0.0.1:0"});
  ASSERT_EQ(server.endpoints().size(), 1u) << server.bootstrap();
  const auto endpoint = server.endpoints()[0];
  EXPECT_EQ(endpoint.scheme, "tls");
  ASSERT_NO_FATAL_FAILURE(server.start());

  Cli alice(tmp / "alice"), bob(tmp / "bob");
  ASSERT_NO_FATAL_FAILURE(init_and_introduce(alice, bob, server.bootstrap()));
  ASSERT_NO_FATAL_FAILURE(expect_chat_both_ways(alice, bob, "hello over tls", "and back again"));

  if (std::system("command -v curl > /dev/null 2>&1") == 0) {
    auto url = "https://127.0.0.1:" + std::to_string(endpoint.port);
    std::ifstream index(std::string(SAMIZDAT_SOURCE_DIR) + "/share/cover-site/index.html");
    std::string expected{std::istreambuf_iterator<char>(index), {}};
    EXPECT_EQ(run_shell("curl -sk --max-time 10 " + url + "/").out, expected);
    EXPECT_EQ(run_shell("curl -sk --max-time 10 -o /dev/null -w '%{http_code}' " + url + "/wp-login.php").out,
              "404");
  }
  server.stop();
}

}  // namespace
}  // namespace samizdat::integration
