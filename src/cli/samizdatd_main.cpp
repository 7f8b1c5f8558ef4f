// samizdatd: the Samizdat server. `init` creates a server directory, `run` serves it.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/samizdatd_relay.hpp"
#include "samizdatd_map.hpp"
#include "server/server.hpp"
#include "server/server_directory.hpp"
#include "util/log.hpp"

namespace {

int fail(const samizdat::Error& error) {
  std::fprintf(stderr, "samizdatd: %s\n", error.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samizdatd: the Samizdat messaging server (stores only sealed envelopes)"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level may also follow the subcommand
  std::string log_level;
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error or off (default: from the config)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::string init_dir;
  std::vector<std::string> listen;
  std::vector<std::string> advertise;
  auto* init =
      app.add_subcommand("init", "create a server directory: keys, config, database, bootstrap string");
  init->add_option("--dir", init_dir, "directory to create (must not exist or be empty)")->required();
  init->add_option("--listen", listen,
                   "endpoint URI to listen on, e.g. tcp://127.0.0.1:0 (repeatable; port 0 picks "
                   "a free port now); default: one loopback tcp listener");
  init->add_option("--advertise", advertise,
                   "endpoint URI clients should use, if not the listen address (repeatable)");

  std::string run_dir;
  auto* run = app.add_subcommand("run", "serve a server directory until SIGINT/SIGTERM");
  run->add_option("--dir", run_dir, "server directory made by `samizdatd init`")->required();

  auto map_commands = samizdat::cli::add_map_commands(app);

  auto relay = samizdat::cli::add_relay_command(app);

  CLI11_PARSE(app, argc, argv);
  if (relay.app->parsed()) return samizdat::cli::run_relay_command(relay, log_level);
  if (auto code = samizdat::cli::run_map_commands(*map_commands)) return *code;

  if (init->parsed()) {
    samizdat::init_logging(log_level.empty() ? "info" : log_level);
    auto result = samizdat::server::init_server_directory(init_dir, listen, advertise);
    if (!result.ok()) return fail(result.error());
    std::fprintf(stderr, "created server directory %s, listening on:", init_dir.c_str());
    for (const auto& uri : result->listen) std::fprintf(stderr, " %s", uri.c_str());
    std::fprintf(stderr, "\nbootstrap string (also in %s/bootstrap.txt):\n", init_dir.c_str());
    std::printf("%s\n", result->bootstrap.c_str());
    return 0;
  }

  auto loaded = samizdat::server::load_server_directory(run_dir);
  if (!loaded.ok()) return fail(loaded.error());
  samizdat::init_logging(log_level.empty() ? loaded->config.log_level : log_level);
  auto server = samizdat::server::Server::start(std::move(loaded->options));
  if (!server.ok()) return fail(server.error());
  auto bootstrap = samizdat::server::make_bootstrap(*loaded, (*server)->endpoints());
  if (bootstrap.ok()) spdlog::info("bootstrap: {}", *bootstrap);
  (*server)->wait_for_signal();
  return 0;
}
