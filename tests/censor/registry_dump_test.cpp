#include "censor/block/registry_dump.hpp"

#include <gtest/gtest.h>

namespace samizdat::censor {
namespace {

TEST(RegistryDump, ParsesAddressesSubnetsAndColumns) {
  auto dump = parse_registry_dump(
      "Updated: 2018-04-16 19:12:00 +0000\n"
      "149.154.167.99 | 149.154.167.0/24;t.me;https://t.me/;Roskomnadzor;27-31-2018/Id2971-18;2018-04-16\n"
      "52.58.0.0/15;;;Generalnaya prokuratura;27-31-2018/Id2971-18;2018-04-17\r\n");
  ASSERT_TRUE(dump.ok()) << dump.error().message;
  EXPECT_EQ(dump->updated, "2018-04-16 19:12:00 +0000");
  ASSERT_EQ(dump->entries.size(), 2u);
  EXPECT_EQ(dump->entries[0].addresses, (std::vector<std::string>{"149.154.167.99", "149.154.167.0/24"}));
  EXPECT_EQ(dump->entries[0].domain, "t.me");
  EXPECT_EQ(dump->entries[0].url, "https://t.me/");
  EXPECT_EQ(dump->entries[0].decision, "27-31-2018/Id2971-18");
  EXPECT_EQ(dump->entries[1].addresses, (std::vector<std::string>{"52.58.0.0/15"}));
  EXPECT_EQ(dump->entries[1].date, "2018-04-17");
  EXPECT_EQ(dump->all_prefixes().size(), 3u);
  EXPECT_EQ(dump->all_domains(), (std::vector<std::string>{"t.me"}));
}

TEST(RegistryDump, KeepsSemicolonsInsideTheUrlColumn) {
  auto dump =
      parse_registry_dump("Updated: x\n192.0.2.1;a.example;http://a.example/?x=1;y=2;Org;Dec;2018-01-01\n");
  ASSERT_TRUE(dump.ok());
  ASSERT_EQ(dump->entries.size(), 1u);
  EXPECT_EQ(dump->entries[0].url, "http://a.example/?x=1;y=2");
  EXPECT_EQ(dump->entries[0].organisation, "Org");
}

TEST(RegistryDump, NormalisesHostBitsAndSkipsIpv6) {
  auto dump = parse_registry_dump("Updated: x\n192.0.2.77/24 | 2001:db8::1;;;O;D;2018\n");
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(dump->entries[0].addresses, (std::vector<std::string>{"192.0.2.0/24"}));
  EXPECT_EQ(dump->ipv6_skipped, 1u);
}

TEST(RegistryDump, ReportsBadLinesAndKeepsTheGoodOnes) {
  auto dump = parse_registry_dump(
      "Updated: x\n"
      "300.1.1.1;;;O;D;2018\n"
      "only;three;columns\n"
      "192.0.2.1/33;;;O;D;2018\n"
      "198.51.100.7;ok.example;;O;D;2018\n");
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(dump->entries.size(), 1u);
  EXPECT_EQ(dump->problems.size(), 3u);
  EXPECT_NE(dump->problems[0].find("line 2"), std::string::npos);
}

TEST(RegistryDump, RequiresTheUpdatedHeader) {
  auto dump = parse_registry_dump("192.0.2.1;;;O;D;2018\n");
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.error().code, Errc::malformed);
}

TEST(RegistryDump, LoadsTheShippedRkn2018Dump) {
  auto dump = load_registry_dump(std::string(SAMIZDAT_SOURCE_DIR) + "/censor/scenarios/rkn-2018-dump.csv");
  ASSERT_TRUE(dump.ok()) << dump.error().message;
  EXPECT_TRUE(dump->problems.empty());
  EXPECT_FALSE(dump->all_prefixes().empty());
}

}  // namespace
}  // namespace samizdat::censor
