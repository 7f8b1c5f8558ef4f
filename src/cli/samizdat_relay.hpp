// `samizdat relay add LINK | list | remove ID`: the relays this account may use when no
// direct endpoint of the network answers.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "client/client.hpp"

namespace samizdat::cli {

struct RelayCommands {
  CLI::App* add = nullptr;
  CLI::App* list = nullptr;
  CLI::App* remove = nullptr;
  std::string link;
  std::int64_t id = 0;
};

void add_relay_commands(CLI::App& app, RelayCommands& commands);
// Runs the one that was parsed (nullopt if none): 0 ok, 1 error.
std::optional<int> run_relay_commands(const RelayCommands& commands, const client::ClientOptions& options,
                                      bool json);

}  // namespace samizdat::cli
