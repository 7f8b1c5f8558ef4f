// A peer server run as a child of the harness: fork/exec with a parent-death signal and
// output to a log file, registered with the loadgen's cleanup (SIGINT/SIGTERM/time limit),
// stopped with SIGTERM then SIGKILL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace samizdat::peers {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts args[0] (absolute path) with `args`, stdout/stderr appended to `log`.
  Status start(const std::vector<std::string>& args, const std::filesystem::path& log);
  pid_t pid() const { return pid_; }
  bool alive();
  // SIGTERM, wait up to 10 s, then SIGKILL. Idempotent.
  void stop();

 private:
  pid_t pid_ = -1;
};

// A port on 127.0.0.1 that was free a moment ago (bind to 0, read, close).
Result<std::uint16_t> free_port();
// Waits until 127.0.0.1:port accepts a TCP connection (or the child exits / time runs out).
Status wait_for_port(ChildProcess& child, std::uint16_t port, std::chrono::milliseconds timeout,
                     const std::filesystem::path& log);
// A fresh temp directory, removed by the loadgen's cleanup on a signal.
Result<std::filesystem::path> make_temp_dir(const std::string& prefix);
Status write_text(const std::filesystem::path& path, const std::string& text);
std::string read_text(const std::filesystem::path& path);

}  // namespace samizdat::peers
