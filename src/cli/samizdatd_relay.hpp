// `samizdatd relay --dir DIR --upstream BOOTSTRAP [--listen URI ...]`.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace samizdat::cli {

struct RelayCommand {
  struct Options {
    std::string dir;
    std::string upstream;
    std::vector<std::string> listen;
  };
  CLI::App* app = nullptr;
  std::shared_ptr<Options> options;
};

RelayCommand add_relay_command(CLI::App& app);
// Serves until SIGINT/SIGTERM; returns the exit code.
int run_relay_command(const RelayCommand& command, const std::string& log_level);

}  // namespace samizdat::cli
