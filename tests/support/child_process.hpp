// Children that tests and benchmarks start (samizdatd, samizdat, nginx, dnsmasq, the peer
// servers): fork + exec with the output in a log file, stopped or killed by their owner,
// and never outliving the process that started them.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace samizdat::testing {

// fork(), and in the child: SIGKILL when the starting process's main thread exits. A test
// that aborts (an assertion, a sanitizer report) skips the destructors that stop its
// children, and an orphan that inherited ctest's output pipe keeps ctest waiting until its
// timeout. The kernel ties PR_SET_PDEATHSIG to the forking *thread*, so a child forked
// from a helper thread (the crash test's crasher restarts samizdatd from one) would die
// with that thread: such children are left to their owners' destructors. Checking the
// parent afterwards closes the window where the parent died before prctl() ran.
pid_t fork_child();

// An argv built in the parent. After fork() in a multithreaded process the child may only
// make async-signal-safe calls (open, dup2, execv, _exit): another thread may have held the
// allocator's lock at the fork, and a child that allocates then hangs before exec (seen
// under ASan: a restarted samizdatd that never started).
class Argv {
 public:
  explicit Argv(std::vector<std::string> args);
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
  const char* path() const { return pointers_.front(); }
  char* const* data() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

struct ChildOptions {
  // stdout and stderr are appended to this file (e.g. "/dev/null"); empty: inherited.
  std::filesystem::path output;
  // Descriptors the child gets as stdin, stdout, stderr (-1: `output` or inherited).
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  std::uint64_t max_open_files = 0;  // RLIMIT_NOFILE of the child; 0: inherited
  // stop(): this signal, then SIGKILL after stop_grace (nginx: SIGQUIT, waiting for its workers).
  int stop_signal = SIGTERM;
  std::chrono::milliseconds stop_grace{30'000};
  // Destruction: stop() when true; SIGKILL (a crash, no waiting) when false.
  bool stop_when_destroyed = false;
  // Benchmarks: killed by the SIGINT/SIGTERM cleanup of interrupt_cleanup.hpp.
  bool clean_up_on_interrupt = false;
};

// One started program. Move-only; the destructor ends it (ChildOptions::stop_when_destroyed).
class ChildProcess {
 public:
  ChildProcess() = default;
  // argv[0] is the program's full path (no PATH search).
  static Result<ChildProcess> start(std::vector<std::string> argv, ChildOptions options = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Still running? Reaps it if it exited (then exit_code() says how).
  bool running();
  // stop_signal (or `signal`), up to stop_grace for it to exit, then SIGKILL; returns exit_code().
  int stop() { return stop(options_.stop_signal); }
  int stop(int signal);
  // SIGKILL now (a crash) and reap. False when there was nothing to kill.
  bool kill();
  // How the last run ended: its exit code, or 128 + the signal that ended it; -1 before.
  int exit_code() const;
  // True when the last run ended by exiting (not by a signal).
  bool exited() const;

 private:
  void end();
  void reaped(int status);
  pid_t pid_ = -1;
  int status_ = -1;  // waitpid's status of the last run; -1 before

  ChildOptions options_;
};

// A helper server a test needs (dnsmasq, nginx): SIGTERM, then SIGKILL after 2 s, when the
// returned object goes away. Empty (nothing runs) when it cannot start: the test then fails
// on what that server should have done.
ChildProcess start_helper_server(std::vector<std::string> argv);

// A program run to completion: its exit status (as ChildProcess::exit_code) and output.
struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;

  // stdout as JSON lines (the CLI's `-o json`), blank lines skipped.
  std::vector<nlohmann::json> json_lines() const;
};

// Runs argv (argv[0]: full path) to completion, feeding `input` on stdin; killed after
// `timeout` (timed_out is then set).
ProcessResult run_to_completion(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                const std::string& input = "");

}  // namespace samizdat::testing
