#include "cli/samizdat_relay.hpp"

#include <asio/io_context.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/relay_book.hpp"
#include "util/clock.hpp"

namespace samizdat::cli {
namespace {

int fail(const Error& error) {
  std::fprintf(stderr, "samizdat: %s\n", error.message.c_str());
  return 1;
}

std::string endpoints_of(const client::StoredRelay& relay) {
  std::string out;
  for (const auto& endpoint : relay.endpoints) out += (out.empty() ? "" : " ") + endpoint.to_uri();
  return out;
}

}  // namespace

void add_relay_commands(CLI::App& app, RelayCommands& commands) {
  auto* relay =
      app.add_subcommand("relay", "relays: volunteer hops used when the network cannot be reached directly");
  relay->require_subcommand(1);
  commands.add = relay->add_subcommand("add", "add a relay from its share link (samizdat-relay1:...)");
  commands.add->add_option("LINK", commands.link)->required();
  commands.list = relay->add_subcommand("list", "list the added relays");
  commands.remove = relay->add_subcommand("remove", "remove a relay by the id `relay list` shows");
  commands.remove->add_option("ID", commands.id)->required();
}

std::optional<int> run_relay_commands(const RelayCommands& commands, const client::ClientOptions& options,
                                      bool json) {
  bool add = commands.add && commands.add->parsed();
  bool list = commands.list && commands.list->parsed();
  bool remove = commands.remove && commands.remove->parsed();
  if (!add && !list && !remove) return std::nullopt;
  asio::io_context io;
  auto client = client::Client::open(io.get_executor(), options);
  if (!client.ok()) return fail(client.error());
  auto& store = (*client)->store();
  if (add) {
    auto relay = client::add_relay(store, commands.link, unix_millis());
    if (!relay.ok()) return fail(relay.error());
    if (json) {
      std::cout << nlohmann::json{{"type", "relay_added"},
                                  {"id", relay->id},
                                  {"endpoints", endpoints_of(*relay)}}
                       .dump()
                << std::endl;
    } else {
      std::cout << "added relay " << relay->id << " (" << endpoints_of(*relay)
                << "): used when the network cannot be reached directly\n";
    }
    return 0;
  }
  if (remove) {
    auto removed = client::remove_relay(store, commands.id);
    if (!removed.ok()) return fail(removed.error());
    if (!json) std::cout << "removed relay " << commands.id << "\n";
    return 0;
  }
  auto relays = client::list_relays(store);
  if (!relays.ok()) return fail(relays.error());
  if (!json && relays->empty()) std::cout << "no relays (add one with `samizdat relay add LINK`)\n";
  for (const auto& relay : *relays) {
    if (json) {
      std::cout << nlohmann::json{{"type", "relay"},
                                  {"id", relay.id},
                                  {"endpoints", endpoints_of(relay)},
                                  {"link", relay.link},
                                  {"added_ms", relay.added_ms}}
                       .dump()
                << std::endl;
    } else {
      std::cout << relay.id << ". " << endpoints_of(relay) << "\n   " << relay.link << "\n";
    }
  }
  return 0;
}

}  // namespace samizdat::cli
