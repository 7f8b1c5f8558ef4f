// Running the operator tools a real censor uses (ip, nft, tc, dnsmasq) and the
// scenario's role commands: foreground with a deadline, or in the background.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace samizdat::censor {

using Argv = std::vector<std::string>;

struct CommandOutput {
  int exit_code = -1;  // -1 when killed by a signal or by the deadline
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

struct RunOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::optional<std::string> netns;  // run inside this network namespace (ip netns exec)
  std::string stdin_data;
};

// Runs argv to completion (or until the deadline, then kills its process group).
// Fails only when the program cannot be started; a non-zero exit is in the output.
Result<CommandOutput> run(const Argv& argv, const RunOptions& options = {});

// Runs argv and fails with its stderr when it exits non-zero or times out.
Result<CommandOutput> run_checked(const Argv& argv, const RunOptions& options = {});

// Shell command line in a namespace: sh -c "<line>".
Argv shell(const std::string& line);

// "ip netns exec NS argv..." (the bind mounts of /etc/netns/NS apply).
Argv in_netns(const std::string& netns, const Argv& argv);

std::string join_argv(const Argv& argv);

// A background process in its own process group; SIGTERM then SIGKILL on stop/destroy.
class BackgroundProcess {
 public:
  // stdout and stderr go to log_path (appended), or /dev/null when empty.
  static Result<BackgroundProcess> start(const Argv& argv, const std::string& log_path,
                                         const std::optional<std::string>& netns = std::nullopt);
  BackgroundProcess() = default;
  BackgroundProcess(BackgroundProcess&& other) noexcept;
  BackgroundProcess& operator=(BackgroundProcess&& other) noexcept;
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess();

  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] bool running();
  void signal(int signo) const;
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1500));

 private:
  int pid_ = -1;
  std::string description_;
};

}  // namespace samizdat::censor
