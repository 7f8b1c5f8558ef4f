#include "cli/samizdat_reach.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "reach/bootstrap.hpp"
#include "reach/map/signed_map.hpp"
#include "transport/transport.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::cli {
namespace {

using nlohmann::json;

constexpr int kExitError = 1;
constexpr int kExitUnreachable = 3;

int fail(const Error& error) {
  std::fprintf(stderr, "samizdat: %s\n", error.message.c_str());
  return kExitError;
}

std::string when(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "never";
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

// "ok", "untried", "failing", "backing off", "suspect": the state people need, with why.
std::string state_of(const reach::EndpointHealth* h, std::int64_t now) {
  if (h && h->in_backoff(now)) return "backing-off";
  if (h && h->consecutive_failures > 0) return "failing";
  if (h && h->suspect()) return "suspect";
  if (!h || (h->successes == 0 && h->failures == 0)) return "untried";
  return "ok";
}

int cmd_status(client::Client& c, bool json_output) {
  auto known = c.known_endpoints();
  std::int64_t now = unix_millis();
  auto order = c.health().rank(known, now);
  if (!json_output) {
    if (const auto* map = c.network_map()) {
      std::cout << "Network map v" << map->map.version << " (" << map->map.endpoints.size() << " endpoints, "
                << map->map.mirrors.size() << " mirrors, " << map->map.dns_names.size() << " DNS names)\n";
    } else {
      std::cout << "No network map yet: bootstrap and imported endpoints only\n";
    }
    std::cout << known.size() << " known endpoints, in the order the dialer would try them:\n";
  }
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    const auto& endpoint = known[order[rank]];
    const auto* h = c.health().find(reach::HealthBook::key(endpoint));
    std::string state = state_of(h, now);
    if (json_output) {
      json out{{"type", "endpoint"},
               {"rank", rank + 1},
               {"endpoint", endpoint.to_uri()},
               {"state", state},
               {"successes", h ? h->successes : 0},
               {"failures", h ? h->failures : 0},
               {"last_success_ms", h ? h->last_success_ms : 0},
               {"last_failure_ms", h ? h->last_failure_ms : 0},
               {"failure_class", h ? std::string(reach::to_string(h->last_failure)) : "ok"},
               {"reason", h ? h->reason : ""},
               {"backoff_until_ms", h && h->in_backoff(now) ? h->next_attempt_ms : 0},
               {"latency_ms", h ? h->latency_ms : 0},
               {"suspect_since_ms", h ? h->suspect_since_ms : 0}};
      std::cout << out.dump() << std::endl;
      continue;
    }
    std::cout << "  " << rank + 1 << ". " << endpoint.to_uri() << "  " << state;
    if (h && h->latency_ms > 0) std::cout << ", dial " << h->latency_ms << " ms";
    if (h) std::cout << ", last success " << when(h->last_success_ms);
    if (h && h->consecutive_failures > 0) {
      std::cout << "\n       " << h->consecutive_failures << " failure(s) in a row, last "
                << when(h->last_failure_ms) << ": " << reach::to_string(h->last_failure) << " (" << h->reason
                << ")";
    }
    if (h && h->suspect()) {
      std::cout << "\n       suspect since " << when(h->suspect_since_ms) << ": looked like "
                << reach::to_string(h->suspect_class)
                << " (no answer, and the attempt was cut short); tried after the others";
    }
    if (h && h->in_backoff(now)) {
      std::cout << "\n       not dialled again before " << when(h->next_attempt_ms) << " (in "
                << (h->next_attempt_ms - now + 999) / 1000 << " s)";
    }
    std::cout << "\n";
  }
  return 0;
}

// A bootstrap string of the same network, or endpoint URIs with keys (one a line).
Result<std::vector<transport::Endpoint>> parse_import(client::Client& c, std::string text) {
  std::vector<transport::Endpoint> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.erase(0, 1);
    if (line.empty() || line.starts_with("#")) continue;
    if (line.starts_with(reach::kBootstrapPrefix)) {
      auto bootstrap = SZ_TRY(reach::parse_bootstrap(line));
      if (bootstrap.operator_key != c.network().certificate_key) {
        return make_error(
            Errc::auth_failed,
            "that bootstrap string is for another network (a different operator key): not imported");
      }
      for (auto& e : bootstrap.endpoints) out.push_back(std::move(e));
      continue;
    }
    auto endpoint = transport::parse_endpoint_uri(line);
    if (!endpoint.ok()) {
      return make_error(Errc::invalid_argument, "cannot import '" + line +
                                                    "': not a bootstrap string or endpoint URI (" +
                                                    endpoint.error().message + ")");
    }
    if (endpoint->server_static == crypto::X25519Public{}) {
      return make_error(Errc::invalid_argument, "the endpoint " + endpoint->to_uri() +
                                                    " has no server key (?key=...): ask for the full link");
    }
    out.push_back(std::move(*endpoint));
  }
  if (out.empty())
    return make_error(Errc::invalid_argument, "nothing to import: give a bootstrap string or endpoint URIs");
  return out;
}

int cmd_import(client::Client& c, const std::string& source, bool json_output) {
  std::string text = source;
  std::error_code ec;
  if (source.size() < 4096 && std::filesystem::is_regular_file(source, ec)) {
    std::ifstream in(source);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  if (text.find(reach::kMapImportPrefix) != std::string::npos || text.starts_with("SZMAP1")) {
    // A signed network map (channel 5): trusted for its signature, not for where it came from.
    auto bytes = reach::parse_map_import(text);
    if (!bytes.ok()) return fail(bytes.error());
    auto version = c.offer_map(*bytes, "import");
    if (!version.ok()) return fail(version.error());
    if (json_output) {
      std::cout << json{{"type", "imported"}, {"map_version", *version}}.dump() << std::endl;
    } else {
      std::cout << "Network map v" << *version << " accepted; the next connection uses its endpoints."
                << std::endl;
    }
    return 0;
  }
  auto endpoints = parse_import(c, text);
  if (!endpoints.ok()) return fail(endpoints.error());
  auto added = c.import_endpoints(*endpoints);
  if (!added.ok()) return fail(added.error());
  if (json_output) {
    std::cout << json{{"type", "imported"}, {"new_endpoints", *added}, {"given", endpoints->size()}}.dump()
              << std::endl;
  } else {
    std::cout << "Imported " << *added << " new endpoint(s) (" << endpoints->size()
              << " given); backoff cleared, the next connection tries them." << std::endl;
  }
  return 0;
}

// Dials every known endpoint once (anonymously: nothing about the account is shown to a
// server that answers) and reports which work from here and how the others fail.
asio::awaitable<int> doctor(client::Client& c, asio::any_io_executor executor,
                            std::chrono::milliseconds timeout, bool json_output) {
  auto known = c.known_endpoints();
  std::size_t working = 0;
  std::map<std::string, std::size_t> classes;
  for (const auto& endpoint : known) {
    transport::DialOptions options;
    options.timeout = timeout;
    const std::int64_t start = monotonic_micros();
    auto stream = co_await transport::dial(executor, endpoint, options);
    auto elapsed_ms = (monotonic_micros() - start) / 1000;
    std::string verdict = "works";
    std::string reason;
    if (stream.ok()) {
      ++working;
      (*stream)->close();
    } else {
      verdict = std::string(reach::to_string(reach::classify_dial_error(stream.error())));
      reason = stream.error().message;
      ++classes[verdict];
    }
    if (json_output) {
      std::cout << json{{"type", "probe"},
                        {"endpoint", endpoint.to_uri()},
                        {"transport", endpoint.scheme},
                        {"result", verdict},
                        {"ms", elapsed_ms},
                        {"reason", reason}}
                       .dump()
                << std::endl;
    } else {
      std::cout << "  " << endpoint.to_uri() << "  " << verdict << " (" << elapsed_ms << " ms)";
      if (!reason.empty()) std::cout << ": " << reason;
      std::cout << "\n";
    }
  }
  std::string summary =
      std::to_string(working) + " of " + std::to_string(known.size()) + " endpoints work from here";
  if (!classes.empty()) {
    summary += "; the others fail by";
    bool first = true;
    for (const auto& [name, count] : classes) {
      summary += (first ? " " : ", ") + name + " x" + std::to_string(count);
      first = false;
    }
  }
  if (working == 0)
    summary +=
        ": this network blocks every endpoint known; import a newer map or bootstrap (samizdat reach import)";
  if (json_output) {
    std::cout << json{{"type", "doctor"},
                      {"working", working},
                      {"endpoints", known.size()},
                      {"summary", summary}}
                     .dump()
              << std::endl;
  } else {
    std::cout << summary << "." << std::endl;
  }
  co_return working > 0 ? 0 : kExitUnreachable;
}

}  // namespace

void add_reach_commands(CLI::App& app, ReachCommands& commands) {
  auto* reach = app.add_subcommand("reach", "how this client gets into the network (endpoints, health)");
  reach->require_subcommand(1);
  commands.status =
      reach->add_subcommand("status", "list known endpoints with their state, why, and backoff");
  commands.import =
      reach->add_subcommand("import", "add endpoints from a bootstrap string, endpoint links or a file");
  commands.import->add_option("SOURCE", commands.import_source, "FILE, or the string itself")->required();
  commands.doctor = app.add_subcommand("doctor", "reachability self-test: dial every known endpoint once");
}

std::optional<int> run_reach_commands(const ReachCommands& commands, const client::ClientOptions& options,
                                      bool json) {
  bool status = commands.status && commands.status->parsed();
  bool import = commands.import && commands.import->parsed();
  bool doctor_cmd = commands.doctor && commands.doctor->parsed();
  if (!status && !import && !doctor_cmd) return std::nullopt;
  asio::io_context io;
  auto client = client::Client::open(io.get_executor(), options);
  if (!client.ok()) return fail(client.error());
  if (status) return cmd_status(**client, json);
  if (import) return cmd_import(**client, commands.import_source, json);
  int code = kExitError;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::any_io_executor executor = io.get_executor();
        code = co_await doctor(**client, executor, options.timeout, json);
      },
      samizdat::log_escape("samizdat_reach: a spawned coroutine"));
  io.run();
  return code;
}

}  // namespace samizdat::cli
