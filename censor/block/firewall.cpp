#include "censor/block/firewall.hpp"

#include <nlohmann/json.hpp>

#include "censor/sys/command.hpp"

namespace samizdat::censor {
namespace {

bool is_valid_ipv4_prefix(const std::string& text) {
  // Strict check before the text reaches nft: digits, dots and one optional /len.
  int dots = 0, slash = 0;
  for (char c : text) {
    if (c == '.')
      ++dots;
    else if (c == '/')
      ++slash;
    else if (c < '0' || c > '9')
      return false;
  }
  return !text.empty() && dots == 3 && slash <= 1;
}

bool is_valid_protocol(const std::string& protocol) { return protocol == "tcp" || protocol == "udp"; }

}  // namespace

std::string to_string(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::registry:
      return "registry";
    case Mechanism::escalation:
      return "escalation";
    case Mechanism::prober:
      return "prober";
    case Mechanism::fully_encrypted:
      return "fully_encrypted";
    case Mechanism::protocol:
      return "protocol";
    case Mechanism::sni_reset:
      return "sni_reset";
    case Mechanism::sni_throttle:
      return "sni_throttle";
  }
  return "unknown";
}

std::string to_string(BlockAction action) { return action == BlockAction::drop ? "drop" : "reset"; }

std::string Firewall::set_name(Mechanism mechanism, BlockAction action) {
  if (mechanism == Mechanism::sni_reset || mechanism == Mechanism::sni_throttle) return to_string(mechanism);
  return to_string(mechanism) + "_" + to_string(action);
}

std::string Firewall::nft_script(const FirewallOptions& options) {
  std::string s;
  s += "table inet " + std::string(kTable) + " {\n";
  const char* address_sets[] = {"registry", "escalation", "prober"};
  const char* tuple_sets[] = {"fully_encrypted", "protocol"};
  for (const char* m : address_sets) {
    for (const char* a : {"drop", "reset"}) {
      s += std::string("  set ") + m + "_" + a + " { type ipv4_addr; flags interval; auto-merge; }\n";
      s += std::string("  counter c_") + m + "_" + a + " {}\n";
    }
  }
  for (const char* m : tuple_sets) {
    for (const char* a : {"drop", "reset"}) {
      s += std::string("  set ") + m + "_" + a +
           " { type ipv4_addr . inet_service . inet_proto; flags timeout; }\n";
      s += std::string("  counter c_") + m + "_" + a + " {}\n";
    }
  }
  for (const char* m : {"sni_reset", "sni_throttle"}) {
    s += std::string("  set ") + m +
         " { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags timeout; }\n";
    s += std::string("  counter c_") + m + " {}\n";
  }
  // One token bucket per direction of each throttled flow, like the TSPU's per-flow policer.
  s += "  set sni_throttle_buckets { type ipv4_addr . inet_service . ipv4_addr . inet_service; "
       "flags dynamic,timeout; timeout 10m; }\n";
  s += "  set judged { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags timeout; timeout 30m; "
       "}\n";
  s += "  counter c_held_for_dpi {}\n";
  s += "  chain filter_forward {\n    type filter hook forward priority 0; policy accept;\n";
  if (!options.hold_until_judged.empty()) {
    std::string interfaces;
    for (const auto& name : options.hold_until_judged)
      interfaces += (interfaces.empty() ? "\"" : ", \"") + name + "\"";
    // A data packet is one with PSH, or one too long to be a bare ACK (IP 20 + TCP <= 60).
    const std::string flow = "ip saddr . tcp sport . ip daddr . tcp dport != @judged";
    s += "    iifname { " + interfaces + " } tcp flags & (psh | syn | rst) == psh " + flow +
         " counter name c_held_for_dpi drop\n";
    s += "    iifname { " + interfaces + " } tcp flags & (syn | rst) == 0 ip length > 80 " + flow +
         " counter name c_held_for_dpi drop\n";
  }
  for (const char* m : address_sets) {
    s += std::string("    ip daddr @") + m + "_drop counter name c_" + m + "_drop drop\n";
    s += std::string("    ip daddr @") + m + "_reset meta l4proto tcp counter name c_" + m +
         "_reset reject with tcp reset\n";
    s += std::string("    ip daddr @") + m + "_reset counter name c_" + m + "_reset drop\n";
  }
  for (const char* m : tuple_sets) {
    s += std::string("    ip daddr . th dport . meta l4proto @") + m + "_drop counter name c_" + m +
         "_drop drop\n";
    s += std::string("    meta l4proto tcp ip daddr . th dport . meta l4proto @") + m +
         "_reset counter name c_" + m + "_reset reject with tcp reset\n";
    s += std::string("    ip daddr . th dport . meta l4proto @") + m + "_reset counter name c_" + m +
         "_reset drop\n";
  }
  // Flow sets hold (client, client port, server, server port); match both directions.
  s += "    ip saddr . tcp sport . ip daddr . tcp dport @sni_reset counter name c_sni_reset reject with tcp "
       "reset\n";
  s += "    ip daddr . tcp dport . ip saddr . tcp sport @sni_reset counter name c_sni_reset reject with tcp "
       "reset\n";
  const std::uint64_t bytes_per_second = std::max<std::uint64_t>(options.throttle_bits_per_second / 8, 1);
  const std::string limit = "limit rate over " + std::to_string(bytes_per_second) + " bytes/second burst " +
                            std::to_string(std::max<std::uint64_t>(bytes_per_second / 4, 3000)) + " bytes";
  s += "    ip saddr . tcp sport . ip daddr . tcp dport @sni_throttle update @sni_throttle_buckets "
       "{ ip saddr . tcp sport . ip daddr . tcp dport " +
       limit + " } counter name c_sni_throttle drop\n";
  s += "    ip daddr . tcp dport . ip saddr . tcp sport @sni_throttle update @sni_throttle_buckets "
       "{ ip saddr . tcp sport . ip daddr . tcp dport " +
       limit + " } counter name c_sni_throttle drop\n";
  s += "  }\n}\n";
  return s;
}

Result<Firewall> Firewall::install(const std::string& censor_ns, const FirewallOptions& options) {
  // "add table" + "delete table" makes the install idempotent within a namespace.
  std::string script =
      "add table inet " + std::string(kTable) + "\ndelete table inet " + kTable + "\n" + nft_script(options);
  SZ_TRY(run_checked({"nft", "-f", "-"}, {.netns = censor_ns, .stdin_data = script}));
  Firewall firewall;
  firewall.ns_ = censor_ns;
  return firewall;
}

Status Firewall::nft(const std::string& command) const {
  SZ_TRY(run_checked({"nft", command}, {.timeout = std::chrono::seconds(10), .netns = ns_}));
  return {};
}

Status Firewall::block_prefixes(Mechanism mechanism, BlockAction action,
                                const std::vector<std::string>& prefixes) {
  if (mechanism != Mechanism::registry && mechanism != Mechanism::escalation &&
      mechanism != Mechanism::prober) {
    return make_error(Errc::invalid_argument, to_string(mechanism) + " does not block address prefixes");
  }
  if (prefixes.empty()) return {};
  std::string list;
  for (const auto& prefix : prefixes) {
    if (!is_valid_ipv4_prefix(prefix)) {
      return make_error(Errc::invalid_argument, "'" + prefix + "' is not an IPv4 address or prefix");
    }
    if (!list.empty()) list += ", ";
    list += prefix;
  }
  return nft("add element inet " + std::string(kTable) + " " + set_name(mechanism, action) + " { " + list +
             " }");
}

Status Firewall::block_tuple(Mechanism mechanism, BlockAction action, const std::string& address,
                             std::uint16_t port, const std::string& protocol, int seconds) {
  if (mechanism != Mechanism::fully_encrypted && mechanism != Mechanism::protocol) {
    return make_error(Errc::invalid_argument, to_string(mechanism) + " does not block 3-tuples");
  }
  if (!is_valid_ipv4_prefix(address) || address.find('/') != std::string::npos ||
      !is_valid_protocol(protocol) || seconds <= 0) {
    return make_error(Errc::invalid_argument,
                      "bad 3-tuple " + address + ":" + std::to_string(port) + "/" + protocol);
  }
  return nft("add element inet " + std::string(kTable) + " " + set_name(mechanism, action) + " { " + address +
             " . " + std::to_string(port) + " . " + protocol + " timeout " + std::to_string(seconds) + "s }");
}

Status Firewall::mark_flow(Mechanism mechanism, const std::string& client, std::uint16_t client_port,
                           const std::string& server, std::uint16_t server_port, int seconds) {
  if (mechanism != Mechanism::sni_reset && mechanism != Mechanism::sni_throttle) {
    return make_error(Errc::invalid_argument, to_string(mechanism) + " does not mark flows");
  }
  if (!is_valid_ipv4_prefix(client) || !is_valid_ipv4_prefix(server) || seconds <= 0) {
    return make_error(Errc::invalid_argument, "bad flow " + client + " -> " + server);
  }
  return nft("add element inet " + std::string(kTable) + " " + set_name(mechanism, BlockAction::drop) +
             " { " + client + " . " + std::to_string(client_port) + " . " + server + " . " +
             std::to_string(server_port) + " timeout " + std::to_string(seconds) + "s }");
}

Status Firewall::mark_judged(const std::string& client, std::uint16_t client_port, const std::string& server,
                             std::uint16_t server_port) {
  if (!is_valid_ipv4_prefix(client) || !is_valid_ipv4_prefix(server)) {
    return make_error(Errc::invalid_argument, "bad flow " + client + " -> " + server);
  }
  return nft("add element inet " + std::string(kTable) + " judged { " + client + " . " +
             std::to_string(client_port) + " . " + server + " . " + std::to_string(server_port) + " }");
}

Result<std::map<std::string, std::uint64_t>> Firewall::packet_counters() const {
  auto output =
      SZ_TRY(run_checked({"nft", "-j", "list", "counters", "table", "inet", kTable}, {.netns = ns_}));
  std::map<std::string, std::uint64_t> counters;
  auto json = nlohmann::json::parse(output.out, nullptr, false);
  if (json.is_discarded() || !json.contains("nftables")) {
    return make_error(Errc::malformed, "nft -j printed something that is not its JSON schema");
  }
  for (const auto& item : json["nftables"]) {
    if (!item.contains("counter")) continue;
    const auto& counter = item["counter"];
    std::string name = counter.value("name", "");
    if (name.rfind("c_", 0) == 0) name = name.substr(2);
    counters[name] = counter.value("packets", std::uint64_t{0});
  }
  return counters;
}

Result<std::vector<std::string>> Firewall::elements(const std::string& set) const {
  auto output = SZ_TRY(run_checked({"nft", "-j", "list", "set", "inet", kTable, set}, {.netns = ns_}));
  std::vector<std::string> out;
  auto json = nlohmann::json::parse(output.out, nullptr, false);
  if (json.is_discarded()) return make_error(Errc::malformed, "nft -j printed invalid JSON");
  for (const auto& item : json.value("nftables", nlohmann::json::array())) {
    if (!item.contains("set")) continue;
    for (const auto& element : item["set"].value("elem", nlohmann::json::array())) {
      if (element.is_string()) {
        out.push_back(element.get<std::string>());
      } else if (element.contains("prefix")) {
        out.push_back(element["prefix"].value("addr", "") + "/" +
                      std::to_string(element["prefix"].value("len", 0)));
      } else if (element.contains("range")) {
        out.push_back(element["range"][0].get<std::string>() + "-" + element["range"][1].get<std::string>());
      } else {
        out.push_back(element.dump());
      }
    }
  }
  return out;
}

Result<std::string> Firewall::listing() const {
  auto output = SZ_TRY(run_checked({"nft", "list", "table", "inet", kTable}, {.netns = ns_}));
  return output.out;
}

}  // namespace samizdat::censor
