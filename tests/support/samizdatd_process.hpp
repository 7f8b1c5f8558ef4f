// A real samizdatd in its own directory: `samizdatd init` once, then `samizdatd run` as a
// child, started, stopped (SIGTERM, a clean shutdown) or killed (a crash) as often as the
// caller needs. Errors are values, so benchmarks use it as they are; tests use
// ServerProcess (server_process.hpp), which turns them into test failures.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::testing {

// The built programs (samizdatd, samizdat) of this build directory.
std::filesystem::path program(const std::string& name);

struct SamizdatdOptions {
  std::filesystem::path binary = program("samizdatd");
  // `run` only: a wrapper (e.g. a script running samizdatd under gdb); empty: `binary`.
  std::filesystem::path run_binary;
  std::vector<std::string> init_args;         // after `samizdatd init --dir DIR`
  std::vector<std::string> run_flags;         // before `run`, e.g. {"--log-level", "debug"}
  std::map<std::string, std::string> config;  // config.toml key -> TOML value, replacing the init default
  std::filesystem::path log;                  // stdout and stderr, appended; empty: DIR/samizdatd.log
  std::uint64_t max_open_files = 0;           // RLIMIT_NOFILE of `run`; 0: inherited
  bool clean_up_on_interrupt = false;         // benchmarks: see interrupt_cleanup.hpp
};

// Where a started server must accept before start() returns.
using Listener = std::pair<std::string, std::uint16_t>;

class SamizdatdProcess {
 public:
  // Runs `samizdatd init` into `dir`, applies options.config and reads the bootstrap string.
  static Result<SamizdatdProcess> init(std::filesystem::path dir, SamizdatdOptions options = {});
  // A directory `samizdatd init` already made.
  static Result<SamizdatdProcess> open(std::filesystem::path dir, SamizdatdOptions options = {});

  // `samizdatd run`; returns once every listener accepts: `listeners`, or when empty the
  // bootstrap's endpoints (with --advertise those are not where samizdatd listens).
  Status start(const std::vector<Listener>& listeners = {},
               std::chrono::milliseconds within = std::chrono::seconds(30));
  // SIGTERM (or `signal`), up to 30 s, then SIGKILL; the exit code (128 + signal if killed by one).
  int stop(int signal = SIGTERM);
  // SIGKILL: a crash.
  void kill() { process_.kill(); }
  bool running() { return process_.running(); }
  pid_t pid() const { return process_.pid(); }

  const std::filesystem::path& dir() const { return dir_; }
  // bootstrap.txt as written by init (one line, no newline).
  const std::string& bootstrap() const { return bootstrap_; }
  const std::vector<transport::Endpoint>& endpoints() const { return endpoints_; }
  std::uint16_t port() const { return endpoints_.empty() ? 0 : endpoints_.front().port; }
  // Its output, all runs; since_start: the current (or last) run only.
  std::string log() const;
  std::string log_since_start() const;
  // The server's SQLite database (the one .db or .sqlite file in its directory).
  std::filesystem::path database_file() const;

 private:
  SamizdatdProcess() = default;
  Status read_bootstrap();

  std::filesystem::path dir_;
  SamizdatdOptions options_;
  std::string bootstrap_;
  std::vector<transport::Endpoint> endpoints_;
  ChildProcess process_;
  std::uintmax_t log_start_ = 0;
};

}  // namespace samizdat::testing
