// samizdat-censor run against the real samizdatd/samizdat binaries: what a Samizdat
// user notices under an RKN-style campaign with today's tcp transport and bootstrap
// list (no network map yet): messages flow before the block, keep flowing after the
// registry block without the user doing anything, and stop once the censor has
// blocked every address the bootstrap string names (recorded with the mechanism).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

namespace fs = std::filesystem;

TEST(SamizdatSubject, SurvivesTheRegistryBlockUnaidedAndIsCutOffWhenEveryBootstrapAddressIsBlocked) {
  SKIP_WITHOUT_NETNS();
  const std::string bin_dir = std::string(SAMIZDAT_BINARY_DIR) + "/src/cli";
  if (!fs::exists(bin_dir + "/samizdatd") || !fs::exists(bin_dir + "/samizdat"))
    GTEST_SKIP() << "needs samizdatd and samizdat built in " << bin_dir;
  const auto dir = (fs::temp_directory_path() / ("szc-test-samizdat-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  auto out =
      run({censor_binary(), "run",
           std::string(SAMIZDAT_SOURCE_DIR) + "/tests/censor/scenarios/mini-samizdat-rkn.toml", "--report",
           dir, "--subject", "samizdat", "--control", control_binary(), "--bin-dir", bin_dir},
          {.timeout = std::chrono::seconds(90)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->exit_code, 0) << out->out << out->err;

  std::ifstream in(dir + "/samizdat/report.json");
  auto report = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << out->out << out->err;
  ASSERT_EQ(report["status"], "ok") << report["status_detail"];
  int before_block = 0, between_blocks = 0;
  for (const auto& m : report["messages"]) {
    const double t = m["t_s"].get<double>();
    if (!m["delivered"].get<bool>()) continue;
    if (t < 3.0) ++before_block;
    // After the registry dropped the first address, before the escalation found the second.
    if (t > 4.0 && t < 7.0) ++between_blocks;
  }
  EXPECT_GE(before_block, 2) << report["messages"].dump();
  EXPECT_GE(between_blocks, 1) << report["messages"].dump();
  const auto& summary = report["summary"];
  EXPECT_EQ(summary["user_actions"].get<int>(), 0);
  // Today's outcome: the address escalation covers both bootstrap endpoints.
  EXPECT_TRUE(summary["cut_off"].get<bool>()) << report["messages"].dump();
  ASSERT_FALSE(report["escalation"].empty());
  EXPECT_EQ(report["escalation"][0]["level"], "address");
  EXPECT_EQ(report["escalation"][0]["new_prefixes"], nlohmann::json({"172.20.1.10"}));
  EXPECT_GT(summary["packets_by_mechanism"]["escalation_drop"].get<int>(), 0);
  EXPECT_GT(summary["packets_by_mechanism"]["registry_drop"].get<int>(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace samizdat::censor::testing
