// Registry/escalation-style address blocks and GFW-style 3-tuple blocks, shown on the
// plain-TCP control: the control is cut off, the neighbour stays reachable.
#include <gtest/gtest.h>

#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

TEST(AddressBlocking, SilentDropCutsOffTheControlButNotItsNeighbour) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve("server", {"serve", "--listen", "0.0.0.0:443"}, 443);
  bed.serve("neighbour", {"bystander", "--listen", "0.0.0.0:7777"}, 7777);
  ASSERT_TRUE(bed.send("203.0.113.10:443"));

  ASSERT_TRUE(bed.firewall().block_prefixes(Mechanism::registry, BlockAction::drop, {"203.0.113.10"}).ok());
  auto out = bed.client({"send", "--server", "203.0.113.10:443", "--message", "x", "--timeout", "1.5"});
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("timed out"), std::string::npos) << out.err;  // dropped: no answer at all
  EXPECT_EQ(bed.client({"check", "--server", "203.0.113.20:7777", "--timeout", "1.5"}).exit_code, 0);
  EXPECT_GT(bed.firewall().packet_counters()->at("registry_drop"), 0u);
}

TEST(AddressBlocking, ResetRefusesTheControlAtOnce) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve("server", {"serve", "--listen", "0.0.0.0:443"}, 443);
  ASSERT_TRUE(
      bed.firewall().block_prefixes(Mechanism::registry, BlockAction::reset, {"203.0.113.8/29"}).ok());
  auto out = bed.client({"send", "--server", "203.0.113.10:443", "--message", "x", "--timeout", "5"});
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("refused"), std::string::npos) << out.err;  // a TCP RST, not a timeout
  EXPECT_GT(bed.firewall().packet_counters()->at("registry_reset"), 0u);
}

TEST(AddressBlocking, WideningToTheSlash24BreaksTheNeighbour) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve("neighbour", {"bystander", "--listen", "0.0.0.0:7777"}, 7777);
  ASSERT_TRUE(bed.firewall().block_prefixes(Mechanism::escalation, BlockAction::drop, {"203.0.113.10"}).ok());
  EXPECT_EQ(bed.client({"check", "--server", "203.0.113.20:7777", "--timeout", "1.5"}).exit_code, 0);
  ASSERT_TRUE(
      bed.firewall().block_prefixes(Mechanism::escalation, BlockAction::drop, {"203.0.113.0/24"}).ok());
  EXPECT_NE(bed.client({"check", "--server", "203.0.113.20:7777", "--timeout", "1.5"}).exit_code, 0);
  // Overlapping prefixes merge instead of failing.
  EXPECT_EQ(*bed.firewall().elements("escalation_drop"), (std::vector<std::string>{"203.0.113.0/24"}));
}

TEST(AddressBlocking, ThreeTupleBlockHitsOnePortAndExpires) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve("server", {"serve", "--listen", "0.0.0.0:8388"}, 8388);
  bed.serve("server", {"bystander", "--listen", "0.0.0.0:7777"}, 7777);
  ASSERT_TRUE(
      bed.firewall()
          .block_tuple(Mechanism::fully_encrypted, BlockAction::drop, Testbed::kServer, 8388, "tcp", 2)
          .ok());
  EXPECT_FALSE(bed.send("203.0.113.10:8388"));
  EXPECT_EQ(bed.client({"check", "--server", "203.0.113.10:7777", "--timeout", "1.5"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_TRUE(bed.send("203.0.113.10:8388"));  // the 2 s block has expired
}

TEST(AddressBlocking, RejectsJunkBeforeItReachesNft) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  EXPECT_FALSE(
      bed.firewall().block_prefixes(Mechanism::registry, BlockAction::drop, {"1.2.3.4; flush ruleset"}).ok());
  EXPECT_FALSE(
      bed.firewall().block_tuple(Mechanism::protocol, BlockAction::drop, "1.2.3.4", 1, "icmp", 5).ok());
  EXPECT_FALSE(bed.firewall().block_prefixes(Mechanism::sni_reset, BlockAction::drop, {"1.2.3.4"}).ok());
}

}  // namespace
}  // namespace samizdat::censor::testing
