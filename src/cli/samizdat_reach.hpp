// `samizdat reach status|import` and `samizdat doctor`: what the dialer knows about each
// endpoint, adding endpoints by hand, and a reachability self-test.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "client/client.hpp"

namespace samizdat::cli {

struct ReachCommands {
  CLI::App* status = nullptr;
  CLI::App* import = nullptr;
  CLI::App* doctor = nullptr;
  std::string import_source;
};

// Registers the subcommands on `app`.
void add_reach_commands(CLI::App& app, ReachCommands& commands);
// Runs the one that was parsed (nullopt if none): its exit code (0 ok, 1 error, 3 nothing reachable).
std::optional<int> run_reach_commands(const ReachCommands& commands, const client::ClientOptions& options,
                                      bool json);

}  // namespace samizdat::cli
