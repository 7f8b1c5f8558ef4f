// samizdat-loadgen keeps working: a tiny pairs run (10 pairs, 2 seconds) against a real
// samizdatd must deliver every envelope the server accepted and print its JSON result.
// Numbers are not checked here (benchmarks report them; docs/BENCHMARKS.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/child_process.hpp"
#include "support/run_process.hpp"

namespace {

namespace fs = std::filesystem;

fs::path loadgen_binary() { return fs::path(SAMIZDAT_BINARY_DIR) / "bench" / "samizdat-loadgen"; }

// Reads the "started samizdatd (pid N) in DIR" line of a loadgen's stderr.
bool parse_started(const std::string& text, int& pid, std::string& dir) {
  auto at = text.find("started samizdatd (pid ");
  if (at == std::string::npos) return false;
  auto rest = text.substr(at + 23);
  pid = std::stoi(rest);
  auto in = rest.find(") in ");
  auto end = rest.find('\n', in);
  if (in == std::string::npos || end == std::string::npos) return false;
  dir = rest.substr(in + 5, end - in - 5);
  return true;
}

bool process_exists(int pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

TEST(LoadGenerator, DeliversEverythingTheServerAcceptedAndPrintsJson) {
  if (!fs::exists(loadgen_binary())) GTEST_SKIP() << "samizdat-loadgen is not built (SAMIZDAT_BENCH=OFF)";
  auto [output, status] = samizdat::testing::run_shell(
      loadgen_binary().string() + " --pairs 10 --duration 2 --warmup 0.5 --cores 2 --client-threads 1 2>&1");
  ASSERT_EQ(status, 0) << output;

  nlohmann::json result;
  std::size_t start = 0;
  while (start < output.size()) {
    auto end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    auto line = output.substr(start, end - start);
    if (line.rfind("{\"", 0) == 0) result = nlohmann::json::parse(line);
    start = end + 1;
  }
  ASSERT_TRUE(result.is_object()) << "no JSON result line in:\n" << output;
  EXPECT_EQ(result["benchmark"], "samizdat-loadgen");
  EXPECT_EQ(result["run"], "pairs");
  EXPECT_EQ(result["pairs"], 10);
  EXPECT_GT(result["sent"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(result["errors"], 0) << result["first_error"];
  EXPECT_EQ(result["accepted"], result["sent"]);
  EXPECT_EQ(result["delivered"], result["accepted"]) << output;
  EXPECT_EQ(result["duplicates"], 0);
  EXPECT_EQ(result["acked"], result["delivered"]);
  EXPECT_GT(result["delivered_per_s"].get<double>(), 0.0);
  EXPECT_GT(result["latency_ms"]["p50"].get<double>(), 0.0);
  EXPECT_GT(result["server_rss_connected_bytes"].get<std::uint64_t>(), 0u);

  // It cleaned up after itself.
  int server_pid = 0;
  std::string dir;
  ASSERT_TRUE(parse_started(output, server_pid, dir)) << output;
  EXPECT_FALSE(fs::exists(dir)) << dir;
  EXPECT_FALSE(process_exists(server_pid)) << "samizdatd " << server_pid << " still runs";
}

TEST(LoadGenerator, CtrlCStopsTheServerAndRemovesItsDirectory) {
  if (!fs::exists(loadgen_binary())) GTEST_SKIP() << "samizdat-loadgen is not built (SAMIZDAT_BENCH=OFF)";
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  const std::string binary = loadgen_binary().string();
  samizdat::testing::ChildOptions options;
  options.stderr_fd = pipe_fds[1];
  options.stop_signal = SIGINT;  // Ctrl-C
  auto child = samizdat::testing::ChildProcess::start(
      {binary, "--pairs", "5", "--duration", "30", "--warmup", "0"}, options);
  ::close(pipe_fds[1]);
  ASSERT_TRUE(child.ok()) << child.error().describe();
  std::string text;
  int server_pid = 0;
  std::string dir;
  std::array<char, 1024> chunk{};
  while (!parse_started(text, server_pid, dir)) {
    auto n = ::read(pipe_fds[0], chunk.data(), chunk.size());
    if (n <= 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  ASSERT_TRUE(parse_started(text, server_pid, dir)) << text;
  ASSERT_TRUE(fs::exists(dir));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // mid-run
  const int code = child->stop();
  ::close(pipe_fds[0]);
  EXPECT_TRUE(child->exited() && code == 130);
  EXPECT_FALSE(fs::exists(dir)) << dir;
  for (int i = 0; i < 50 && process_exists(server_pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(process_exists(server_pid)) << "samizdatd " << server_pid << " still runs";
}

}  // namespace
