#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "censor/scenario/scenario.hpp"

namespace samizdat::censor {
namespace {

TEST(ScenarioFile, EveryShippedScenarioParsesWithControlAndSamizdatSubjects) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(SAMIZDAT_SOURCE_DIR) + "/censor/scenarios")) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    auto scenario = load_scenario(entry.path().string());
    ASSERT_TRUE(scenario.ok()) << scenario.error().message;
    EXPECT_NE(scenario->subject("control"), nullptr) << entry.path();
    EXPECT_NE(scenario->subject("samizdat"), nullptr) << entry.path();
  }
  EXPECT_EQ(count, 4);  // rkn-2018, gfw-2023, tspu-2021, dpi-classify
}

TEST(ScenarioFile, ExpandsPlaceholdersAndRefusesUnknownOnes) {
  EXPECT_EQ(*expand("{control} send --server {server_addr}:{port}",
                    {{"control", "/c"}, {"server_addr", "192.0.2.1"}, {"port", "443"}}),
            "/c send --server 192.0.2.1:443");
  auto typo = expand("{contorl} x", {{"control", "/c"}});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("{contorl}"), std::string::npos);
  EXPECT_FALSE(expand("{unclosed", {}).ok());
}

TEST(ScenarioFile, RejectsAServiceHostThatIsInside) {
  auto s = parse_scenario(R"(
[[host]]
name = "client"
side = "inside"
addresses = ["10.10.0.2"]
[service]
host = "client"
addresses = ["10.10.0.2"]
[subject.control]
server = "a"
send = "b"
receive = "c"
[messages]
sender = "client"
)",
                          "inline.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("outside"), std::string::npos);
}

TEST(ScenarioFile, PublishMapEventsNeedAnAddressAndReachTheSubject) {
  const std::string base = R"(
[[host]]
name = "client"
side = "inside"
addresses = ["10.10.0.2"]
[[host]]
name = "srv"
addresses = ["203.0.113.10"]
[service]
host = "srv"
addresses = ["203.0.113.10", "192.0.2.10"]
[subject.samizdat]
server = "a"
send = "b"
receive = "c"
publish_map = "publish {address}"
map_dns_records = "{report_dir}/txt.conf"
[messages]
sender = "client"
)";
  auto s = parse_scenario(base + "[[event]]\nat_s = 3\naction = \"publish_map\"\naddress = \"192.0.2.10\"\n",
                          "inline.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].action, "publish_map");
  EXPECT_EQ(s->events[0].address, "192.0.2.10");
  EXPECT_EQ(s->subject("samizdat")->publish_map, "publish {address}");
  EXPECT_EQ(s->subject("samizdat")->map_dns_records, "{report_dir}/txt.conf");
  auto missing = parse_scenario(base + "[[event]]\nat_s = 3\naction = \"publish_map\"\n", "inline.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("publish_map event needs an IPv4 address"), std::string::npos)
      << missing.error().message;
}

// Found by the fuzzing campaign: a float where an integer belongs (port = 8e88) reached
// toml++'s float-to-integer cast, undefined behaviour. Numbers out of range, fractional
// ports, nan and inf are now refused with the option's name.
TEST(ScenarioFile, RefusesNumbersOutOfRangeOrOfTheWrongKindNamingTheOption) {
  const std::string hosts = R"(
[[host]]
name = "client"
side = "inside"
addresses = ["10.10.0.2"]
)";
  const std::string rest = R"(
[[host]]
name = "srv"
addresses = ["203.0.113.10"]
[service]
host = "srv"
addresses = ["203.0.113.10"]
[subject.samizdat]
server = "a"
send = "b"
receive = "c"
[messages]
sender = "client"
)";
  ASSERT_TRUE(parse_scenario(hosts + "bystander = { kind = \"tcp\", port = 7777 }\n" + rest, "ok.toml").ok());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"bystander = { kind = \"tcp\", port = 8e88 }\n", "bystander port"},
      {"bystander = { kind = \"tcp\", port = 80.5 }\n", "bystander port"},
      {"bystander = { kind = \"tcp\", port = 70000 }\n", "bystander port"},
  };
  for (const auto& [line, option] : bad) {
    auto s = parse_scenario(hosts + line + rest, "bad.toml");
    ASSERT_FALSE(s.ok()) << line;
    EXPECT_NE(s.error().message.find(option), std::string::npos) << s.error().message;
  }
  const std::vector<std::pair<std::string, std::string>> bad_tail = {
      {"[censor]\nthrottle_kbit_s = 1e300\n", "throttle_kbit_s"},
      {"[censor.dpi]\nblock_seconds = -1\n", "block_seconds"},
      {"[censor.escalation]\nports = [443, 1e19]\n", "escalation port"},
      {"[[event]]\nat_s = nan\naction = \"note\"\n", "at_s"},
      {"[censor.prober]\nread_timeout_s = inf\n", "read_timeout_s"},
  };
  for (const auto& [tail, option] : bad_tail) {
    auto s = parse_scenario(hosts + rest + tail, "bad.toml");
    ASSERT_FALSE(s.ok()) << tail;
    EXPECT_EQ(s.error().code, Errc::invalid_argument);
    EXPECT_NE(s.error().message.find(option), std::string::npos) << s.error().message;
  }
}

TEST(ScenarioFile, ReportsTomlSyntaxErrorsWithTheirPosition) {
  auto s = parse_scenario("name = \n", "broken.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::malformed);
  EXPECT_NE(s.error().message.find("broken.toml"), std::string::npos);
}

}  // namespace
}  // namespace samizdat::censor
