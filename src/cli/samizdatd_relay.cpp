// `samizdatd relay`: runs a volunteer relay (see src/server/relay/relay.hpp).
#include "cli/samizdatd_relay.hpp"

#include <cstdio>

#include "server/relay/relay_directory.hpp"
#include "util/log.hpp"

namespace samizdat::cli {

RelayCommand add_relay_command(CLI::App& app) {
  RelayCommand command;
  auto options = std::make_shared<RelayCommand::Options>();
  command.options = options;
  command.app = app.add_subcommand(
      "relay",
      "run a volunteer relay: forwards clients' encrypted streams to the network and learns nothing; "
      "prints a share link (samizdat-relay1:...) for `samizdat relay add`");
  command.app->add_option("--dir", options->dir, "relay directory (created on first run)")->required();
  command.app->add_option("--upstream", options->upstream,
                          "the network's bootstrap string (samizdat1:...); needed on first run");
  command.app->add_option("--listen", options->listen,
                          "endpoint URI clients reach the relay on, e.g. tcp://0.0.0.0:443 (repeatable; "
                          "default: tcp://127.0.0.1:0, port 0 = pick one and keep it)");
  return command;
}

int run_relay_command(const RelayCommand& command, const std::string& log_level) {
  init_logging(log_level.empty() ? "info" : log_level);
  const auto& o = *command.options;
  std::optional<std::string> upstream;
  if (!o.upstream.empty()) upstream = o.upstream;
  auto directory = server::open_relay_directory(o.dir, upstream, o.listen);
  if (!directory.ok()) {
    std::fprintf(stderr, "samizdatd relay: %s\n", directory.error().message.c_str());
    return 1;
  }
  auto relay = server::Relay::start(directory->options);
  if (!relay.ok()) {
    std::fprintf(stderr, "samizdatd relay: %s\n", relay.error().message.c_str());
    return 1;
  }
  auto link = server::record_relay_endpoints(*directory, (*relay)->endpoints());
  if (!link.ok()) {
    std::fprintf(stderr, "samizdatd relay: %s\n", link.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "relay serving; share this link (also in %s/share.txt):\n", o.dir.c_str());
  std::printf("%s\n", link->c_str());
  std::fflush(stdout);
  (*relay)->wait_for_signal();
  return 0;
}

}  // namespace samizdat::cli
