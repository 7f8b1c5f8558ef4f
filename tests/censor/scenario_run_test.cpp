// samizdat-censor run, end to end: a short RKN-style campaign cuts the plain control
// off, counts the bystanders each escalation step breaks, writes the report, and
// leaves nothing behind, also when interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

namespace fs = std::filesystem;

std::string mini_scenario() {
  return std::string(SAMIZDAT_SOURCE_DIR) + "/tests/censor/scenarios/mini-rkn.toml";
}

std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("szc-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::vector<std::string> namespaces_of(int pid) {
  std::vector<std::string> out;
  std::error_code ec;
  const std::string prefix = "szc-" + std::to_string(pid) + "-";
  for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(entry.path().filename().string());
  }
  return out;
}

TEST(ScenarioRun, EscalationCutsOffTheControlAndCountsBrokenBystanders) {
  SKIP_WITHOUT_NETNS();
  const auto dir = temp_dir("run");
  auto out = run({censor_binary(), "run", mini_scenario(), "--report", dir, "--control", control_binary()},
                 {.timeout = std::chrono::seconds(90)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->exit_code, 0) << out->err;
  EXPECT_NE(out->out.find("CUT OFF"), std::string::npos) << out->out;

  std::ifstream in(dir + "/control/report.json");
  auto report = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  const auto& summary = report["summary"];
  EXPECT_TRUE(summary["cut_off"].get<bool>());
  EXPECT_GE(summary["messages_delivered"].get<int>(), 1);  // it worked before the censor acted
  EXPECT_GE(summary["user_actions"].get<int>(), 1);        // the control needs a person to move it
  std::vector<std::string> levels;
  for (const auto& step : report["escalation"]) levels.push_back(step["level"]);
  EXPECT_EQ(levels, (std::vector<std::string>{"address", "/24", "/16"}));
  // The /24 step breaks the shop, the /16 step the game too; news is elsewhere.
  EXPECT_EQ(report["escalation"][1]["bystanders_broken"], nlohmann::json({"shop"}));
  EXPECT_EQ(summary["bystanders_broken_names"], nlohmann::json({"game", "shop"}));
  EXPECT_GT(summary["packets_by_mechanism"]["escalation_drop"].get<int>(), 0);
  EXPECT_GT(summary["packets_by_mechanism"]["registry_drop"].get<int>(), 0);
  EXPECT_TRUE(fs::exists(dir + "/control/summary.txt"));
  EXPECT_GT(fs::file_size(dir + "/control/timeline.png"), 1000u);
  // The Samizdat subject is reported as waiting, not silently dropped.
  std::ifstream skipped(dir + "/samizdat/report.json");
  auto samizdat = nlohmann::json::parse(skipped, nullptr, false);
  EXPECT_EQ(samizdat["status"], "skipped");
  fs::remove_all(dir);
}

TEST(ScenarioRun, InterruptTearsTheTestbedDown) {
  SKIP_WITHOUT_NETNS();
  const auto dir = temp_dir("interrupt");
  const std::string binary = censor_binary(), scenario = mini_scenario(), control = control_binary();
  pid_t pid = samizdat::testing::fork_child();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(binary.c_str(), binary.c_str(), "run", scenario.c_str(), "--report", dir.c_str(), "--subject",
          "control", "--control", control.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the testbed is up, then press Ctrl-C.
  for (int i = 0; i < 100 && namespaces_of(pid).size() < 7; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(namespaces_of(pid).size(), 7u);  // censor + six hosts
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_TRUE(namespaces_of(pid).empty());
  for (const auto& entry : fs::directory_iterator("/etc/netns")) {
    EXPECT_NE(entry.path().filename().string().rfind("szc-" + std::to_string(pid) + "-", 0), 0u);
  }
  fs::remove_all(dir);
}

TEST(ScenarioRun, StartupSweepRemovesNamespacesOfDeadRuns) {
  SKIP_WITHOUT_NETNS();
  pid_t dead = samizdat::testing::fork_child();
  if (dead == 0) _exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string name = "szc-" + std::to_string(dead) + "-leftover";
  ASSERT_TRUE(run_checked({"ip", "netns", "add", name}).ok());
  const std::string mine = netns_name_for("alive");
  ASSERT_TRUE(run_checked({"ip", "netns", "add", mine}).ok());
  auto swept = sweep_stale_namespaces();
  EXPECT_NE(std::find(swept.begin(), swept.end(), name), swept.end());
  EXPECT_FALSE(fs::exists("/run/netns/" + name));
  EXPECT_TRUE(fs::exists("/run/netns/" + mine));  // a live run's namespaces stay
  destroy_netns(mine);
}

TEST(ScenarioRun, SaysClearlyThatItNeedsRoot) {
  SKIP_WITHOUT_NETNS();
  auto out = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", censor_binary(), "run",
                  mini_scenario(), "--report", "/tmp/szc-never"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->exit_code, 77);
  EXPECT_NE(out->err.find("needs root"), std::string::npos) << out->err;
}

}  // namespace
}  // namespace samizdat::censor::testing
