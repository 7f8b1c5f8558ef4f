// The test side of samizdatd_process.hpp: a samizdatd whose every failure is a test failure
// (init: EXPECT, start: FAIL, stop: EXPECT a clean exit).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/samizdatd_process.hpp"

namespace samizdat::testing {

class ServerProcess {
 public:
  // `samizdatd init --dir DIR INIT_ARGS` now; start() runs it.
  explicit ServerProcess(std::filesystem::path dir, std::vector<std::string> init_args = {});
  // An initialised directory (e.g. a test changed its config.toml), run at once with `options`.
  static std::unique_ptr<ServerProcess> run_existing(std::filesystem::path dir,
                                                     SamizdatdOptions options = {});
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // `samizdatd run`; returns when every listener accepts (default: the bootstrap's endpoints).
  void start(const std::vector<Listener>& listeners = {});
  // SIGTERM (or `signal`): a clean shutdown must exit 0. Returns the exit code.
  int stop(int signal = SIGTERM);
  // SIGKILL: a crash.
  void kill();
  bool running();

  const std::string& bootstrap() const;
  std::uint16_t port() const;
  const std::vector<transport::Endpoint>& endpoints() const;
  const std::filesystem::path& dir() const { return dir_; }
  // Its output: all runs, or (since_start) the current one.
  std::string log() const;
  std::string log_since_start() const;
  std::filesystem::path database_file() const;

 private:
  explicit ServerProcess(Result<SamizdatdProcess> server, std::filesystem::path dir);

  std::filesystem::path dir_;
  std::optional<SamizdatdProcess> server_;  // empty when init failed (the test already failed)
};

}  // namespace samizdat::testing
