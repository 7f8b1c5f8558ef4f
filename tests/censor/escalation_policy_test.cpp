#include <gtest/gtest.h>

#include "censor/policy/escalation.hpp"

namespace samizdat::censor {
namespace {

TEST(EscalationPolicy, WidensFromAddressToSlash24ToSlash16ToCloudAsTheServiceMoves) {
  auto policy = EscalationPolicy::create({"address", "/24", "/16", "cloud"}, {"172.20.0.0/14"});
  ASSERT_TRUE(policy.ok());
  policy->learn("172.20.1.10");
  auto step = policy->step();
  EXPECT_EQ(step.level_name, "address");
  EXPECT_EQ(step.new_prefixes, (std::vector<std::string>{"172.20.1.10"}));
  EXPECT_TRUE(policy->step().new_prefixes.empty());  // nothing new got through

  policy->learn("172.20.1.77");
  step = policy->step();
  EXPECT_EQ(step.level_name, "/24");
  EXPECT_EQ(step.new_prefixes, (std::vector<std::string>{"172.20.1.0/24"}));
  EXPECT_EQ(step.addresses_blocked_total, 256u);

  policy->learn("172.20.9.10");
  step = policy->step();
  EXPECT_EQ(step.level_name, "/16");
  EXPECT_EQ(step.addresses_blocked_total, 65536u);

  policy->learn("172.22.3.10");
  step = policy->step();
  EXPECT_EQ(step.level_name, "cloud");
  EXPECT_EQ(step.new_prefixes, (std::vector<std::string>{"172.20.0.0/14"}));
  EXPECT_EQ(step.addresses_blocked_total, 4u * 65536u);
  EXPECT_TRUE(policy->covered("172.23.255.1"));
  EXPECT_FALSE(policy->covered("172.24.0.1"));
}

TEST(EscalationPolicy, RegistryBlocksDoNotCostAnEscalationLevel) {
  auto policy = EscalationPolicy::create({"address", "/24"}, {});
  ASSERT_TRUE(policy.ok());
  policy->assume_blocked({"203.0.113.10"});
  policy->learn("203.0.113.10");
  EXPECT_TRUE(policy->step().new_prefixes.empty());
  policy->learn("198.51.100.5");
  EXPECT_EQ(policy->step().level_name, "address");
}

TEST(EscalationPolicy, RejectsUnknownLevels) {
  EXPECT_FALSE(EscalationPolicy::create({"address", "/40"}, {}).ok());
  EXPECT_FALSE(EscalationPolicy::create({"everything"}, {}).ok());
  EXPECT_FALSE(EscalationPolicy::create({}, {}).ok());
}

TEST(EscalationPolicy, CountsOverlappingPrefixesOnce) {
  auto a = *parse_ipv4_prefix("10.0.0.0/8");
  auto b = *parse_ipv4_prefix("10.1.0.0/16");
  auto c = *parse_ipv4_prefix("192.0.2.1");
  EXPECT_EQ(count_addresses({a, b, c, a}), (1u << 24) + 1u);
}

}  // namespace
}  // namespace samizdat::censor
