#include "censor/scenario/scenario.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "censor/block/ipv4.hpp"

namespace samizdat::censor {
namespace {

Error bad(const std::string& where, const std::string& what) {
  return make_error(Errc::invalid_argument, where + ": " + what);
}

template <class View>
std::vector<std::string> strings(View node) {
  std::vector<std::string> out;
  if (auto* array = node.as_array()) {
    for (const auto& item : *array) {
      if (auto value = item.template value<std::string>()) out.push_back(*value);
    }
  }
  return out;
}

std::string fmt_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// An integer option in [min, max], or `fallback` when it is absent. Only TOML integers are
// accepted: toml++'s value<integer>() also converts floats, and casts before its range check
// (undefined behaviour for `port = 8e88`, found by the fuzzer); truncating 1.5 would be no better.
template <class View>
Result<std::int64_t> integer_in(View node, std::int64_t fallback, std::int64_t min, std::int64_t max,
                                const std::string& where) {
  if (!node) return fallback;
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() < min || value->get() > max) {
    return bad(where, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value->get();
}

// A number of seconds (or other real option) in [min, max], or `fallback` when absent;
// nan and inf are refused, so every later conversion to a duration or an integer is defined.
template <class View>
Result<double> real_in(View node, double fallback, double min, double max, const std::string& where) {
  if (!node) return fallback;
  auto value = node.template value<double>();  // integers convert exactly enough; strings do not
  if (!value || !std::isfinite(*value) || *value < min || *value > max) {
    return bad(where, "must be a number from " + fmt_number(min) + " to " + fmt_number(max));
  }
  return *value;
}

Result<BlockAction> block_action(const std::string& text, const std::string& where) {
  if (text == "drop") return BlockAction::drop;
  if (text == "reset") return BlockAction::reset;
  return bad(where, "block must be \"drop\" or \"reset\", not \"" + text + "\"");
}

Status check_addresses(const std::vector<std::string>& addresses, const std::string& where) {
  for (const auto& address : addresses) {
    auto parsed = parse_ipv4(address);
    if (!parsed) return bad(where, parsed.error().message);
  }
  return {};
}

}  // namespace

const SubjectSpec* Scenario::subject(const std::string& name) const {
  for (const auto& s : subjects) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string Scenario::resolve_path(const std::string& relative) const {
  std::filesystem::path p(relative);
  if (p.is_absolute()) return relative;
  return (std::filesystem::path(path).parent_path() / p).string();
}

Result<std::string> expand(const std::string& pattern, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    std::size_t close = pattern.find('}', i);
    if (close == std::string::npos) return make_error(Errc::invalid_argument, "unclosed '{' in: " + pattern);
    const std::string name = pattern.substr(i + 1, close - i - 1);
    auto it = vars.find(name);
    if (it == vars.end()) {
      return make_error(Errc::invalid_argument, "unknown placeholder {" + name + "} in: " + pattern);
    }
    out += it->second;
    i = close;
  }
  return out;
}

namespace {

// One reader per TOML section: each takes the whole document (so a section that reads an
// earlier one's values, like [messages] judge_after_s from duration_s, sees them filled in),
// fills its part of the scenario and names the file and option in any error.
using SectionReader = Status (*)(const toml::table& root, const std::string& path, Scenario& s);

// Top-level keys: name, description, duration_s.
Status read_header(const toml::table& root, const std::string& path, Scenario& s) {
  s.path = path;
  s.name = root["name"].value_or(std::filesystem::path(path).stem().string());
  s.description = root["description"].value_or(std::string());
  s.duration_s = SZ_TRY(real_in(root["duration_s"], 30.0, 0, 3600, path + " duration_s"));
  if (s.duration_s <= 0 || s.duration_s > 3600) return bad(path, "duration_s must be in (0, 3600]");
  return {};
}

Result<BystanderSpec> read_bystander(const toml::table& b, const std::string& path) {
  BystanderSpec spec;
  spec.kind = b["kind"].value_or(std::string("tcp"));
  spec.port = static_cast<std::uint16_t>(
      SZ_TRY(integer_in(b["port"], spec.kind == "http" ? 80 : 7777, 1, 65535, path + " bystander port")));
  if (spec.kind != "http" && spec.kind != "tcp") return bad(path, "bystander kind must be http or tcp");
  return spec;
}

// [[host]]
Status read_hosts(const toml::table& root, const std::string& path, Scenario& s) {
  if (auto* hosts = root["host"].as_array()) {
    for (const auto& node : *hosts) {
      const auto* t = node.as_table();
      if (t == nullptr) return bad(path, "[[host]] entries must be tables");
      ScenarioHost host;
      host.spec.name = (*t)["name"].value_or(std::string());
      const std::string side = (*t)["side"].value_or(std::string("outside"));
      if (side != "inside" && side != "outside") return bad(path, "host side must be inside or outside");
      host.spec.side = side == "inside" ? Side::inside : Side::outside;
      host.spec.addresses = strings((*t)["addresses"]);
      SZ_CHECK(check_addresses(host.spec.addresses, path + " host " + host.spec.name));
      host.dns_name = (*t)["dns_name"].value_or(std::string());
      if (const auto* b = (*t)["bystander"].as_table()) host.bystander = SZ_TRY(read_bystander(*b, path));
      s.hosts.push_back(std::move(host));
    }
  }
  if (s.hosts.empty()) return bad(path, "a scenario needs [[host]] entries");
  return {};
}

// [service]
Status read_service(const toml::table& root, const std::string& path, Scenario& s) {
  const auto service = root["service"];
  s.service.host = service["host"].value_or(std::string());
  s.service.port = static_cast<std::uint16_t>(
      SZ_TRY(integer_in(service["port"], 443, 1, 65535, path + " [service] port")));
  s.service.dns_name = service["dns_name"].value_or(std::string());
  s.service.sni = service["sni"].value_or(std::string());
  s.service.addresses = strings(service["addresses"]);
  SZ_CHECK(check_addresses(s.service.addresses, path + " [service]"));
  if (s.service.host.empty() || s.service.addresses.empty()) {
    return bad(path, "[service] needs host and addresses");
  }
  return {};
}

// [[subject.<name>.setup]]
Status read_setup_steps(const toml::table& t, const std::string& path, SubjectSpec& subject) {
  const auto* steps = t["setup"].as_array();
  if (steps == nullptr) return {};
  for (const auto& step_node : *steps) {
    const auto* step = step_node.as_table();
    if (step == nullptr) return bad(path, "[subject." + subject.name + "] setup must be tables");
    SetupStep parsed;
    parsed.host = (*step)["host"].value_or(std::string());
    parsed.command = (*step)["run"].value_or(std::string());
    parsed.timeout_s = SZ_TRY(real_in((*step)["timeout_s"], 30.0, 0, 600, path + " setup timeout_s"));
    if (parsed.command.empty()) {
      return bad(path, "[[subject." + subject.name + ".setup]] needs run = \"command line\"");
    }
    if (!(parsed.timeout_s > 0 && parsed.timeout_s <= 600)) {
      return bad(path, "[[subject." + subject.name + ".setup]] timeout_s must be in (0, 600]");
    }
    subject.setup.push_back(std::move(parsed));
  }
  return {};
}

// [subject.<name>]
Status read_subjects(const toml::table& root, const std::string& path, Scenario& s) {
  if (auto* subjects = root["subject"].as_table()) {
    for (const auto& [key, node] : *subjects) {
      const auto* t = node.as_table();
      if (t == nullptr) continue;
      SubjectSpec subject;
      subject.name = std::string(key.str());
      subject.description = (*t)["description"].value_or(std::string());
      subject.server = (*t)["server"].value_or(std::string());
      subject.send = (*t)["send"].value_or(std::string());
      subject.receive = (*t)["receive"].value_or(std::string());
      subject.fetch = (*t)["fetch"].value_or(std::string());
      subject.requires_files = strings((*t)["requires"]);
      subject.user_can_switch_address = (*t)["user_can_switch_address"].value_or(false);
      subject.publish_map = (*t)["publish_map"].value_or(std::string());
      subject.map_dns_records = (*t)["map_dns_records"].value_or(std::string());
      if (const auto* vars = (*t)["vars"].as_table()) {
        for (const auto& [name, value] : *vars) {
          if (auto v = value.value<std::string>()) subject.vars[std::string(name.str())] = *v;
        }
      }
      SZ_CHECK(read_setup_steps(*t, path, subject));
      if (subject.server.empty() || subject.send.empty() || subject.receive.empty()) {
        return bad(path, "[subject." + subject.name + "] needs server, send and receive command lines");
      }
      s.subjects.push_back(std::move(subject));
    }
  }
  if (s.subjects.empty()) return bad(path, "a scenario needs at least one [subject.<name>]");
  return {};
}

// [messages]
Status read_messages(const toml::table& root, const std::string& path, Scenario& s) {
  const auto messages = root["messages"];
  s.messages.sender_host = messages["sender"].value_or(std::string());
  s.messages.receiver_host = messages["receiver"].value_or(s.messages.sender_host);
  s.messages.mailbox = messages["mailbox"].value_or(std::string("bob"));
  // Its timings are seconds in [0, 3600]; the error names the option.
  auto message_seconds = [&](const char* key, double fallback) {
    return real_in(messages[key], fallback, 0, 3600, path + " [messages] " + key);
  };
  s.messages.interval_s = SZ_TRY(message_seconds("interval_s", 1.0));
  s.messages.send_timeout_s = SZ_TRY(message_seconds("send_timeout_s", 4.0));
  s.messages.deliver_timeout_s = SZ_TRY(message_seconds("deliver_timeout_s", 6.0));
  s.messages.receive_poll_s = SZ_TRY(message_seconds("receive_poll_s", 0.5));
  s.messages.fetch_interval_s = SZ_TRY(message_seconds("fetch_interval_s", 0.0));
  s.messages.fetch_timeout_s = SZ_TRY(message_seconds("fetch_timeout_s", 20.0));
  s.messages.judge_after_s = SZ_TRY(message_seconds("judge_after_s", s.duration_s * 0.75));
  if (s.messages.sender_host.empty()) return bad(path, "[messages] needs sender (an inside host)");
  if (s.messages.interval_s < 0.05) return bad(path, "[messages] interval_s must be at least 0.05");
  return {};
}

Result<ScenarioEvent> read_event(const toml::table& t, const std::string& path) {
  ScenarioEvent e;
  e.at_s = SZ_TRY(real_in(t["at_s"], 0.0, 0, 3600, path + " event at_s"));
  e.action = t["action"].value_or(std::string());
  e.file = t["file"].value_or(std::string());
  e.delay_s = SZ_TRY(real_in(t["delay_s"], 0.0, 0, 3600, path + " event delay_s"));
  e.block = SZ_TRY(block_action(t["block"].value_or(std::string("drop")), path + " event"));
  e.poison_domains = t["poison_domains"].value_or(true);
  e.address = t["address"].value_or(std::string());
  e.domains = strings(t["domains"]);
  e.text = t["text"].value_or(std::string());
  if (e.action == "registry" && e.file.empty()) return bad(path, "registry event needs file");
  if ((e.action == "move" || e.action == "publish_map") && !parse_ipv4(e.address))
    return bad(path, e.action + " event needs an IPv4 address");
  if (e.action != "registry" && e.action != "move" && e.action != "publish_map" && e.action != "poison_dns" &&
      e.action != "note") {
    return bad(
        path, "event action must be registry, move, publish_map, poison_dns or note, not '" + e.action + "'");
  }
  return e;
}

// [[event]]
Status read_events(const toml::table& root, const std::string& path, Scenario& s) {
  if (auto* events = root["event"].as_array()) {
    for (const auto& node : *events) {
      const auto* t = node.as_table();
      if (t == nullptr) return bad(path, "[[event]] entries must be tables");
      s.events.push_back(SZ_TRY(read_event(*t, path)));
    }
  }
  return {};
}

// [censor] itself: throttling and the DNS names poisoned from the start.
Status read_censor(const toml::table& root, const std::string& path, Scenario& s) {
  const auto censor = root["censor"];
  s.throttle_bits_per_second = static_cast<std::uint64_t>(
      SZ_TRY(real_in(censor["throttle_kbit_s"], 150.0, 1, 10'000'000, path + " throttle_kbit_s")) * 1000);
  s.dns_poisoned = strings(censor["dns_poison"]);
  return {};
}

// [censor.escalation]
Status read_escalation(const toml::table& root, const std::string& path, Scenario& s) {
  const auto esc = root["censor"]["escalation"];
  s.escalation.enabled = esc["enabled"].value_or(false);
  s.escalation.informants = strings(esc["informants"]);
  if (auto* ports = esc["ports"].as_array()) {
    for (const auto& p : *ports) {
      auto port =
          SZ_TRY(integer_in(toml::node_view<const toml::node>(&p), 0, 1, 65535, path + " escalation port"));
      s.escalation.ports.push_back(static_cast<std::uint16_t>(port));
    }
  }
  s.escalation.round_s = SZ_TRY(real_in(esc["round_s"], 3.0, 0.1, 3600, path + " escalation round_s"));
  s.escalation.start_s = SZ_TRY(real_in(esc["start_s"], 0.0, 0, 3600, path + " escalation start_s"));
  if (esc["levels"]) s.escalation.levels = strings(esc["levels"]);
  s.escalation.cloud_ranges = strings(esc["cloud_ranges"]);
  s.escalation.action =
      SZ_TRY(block_action(esc["block"].value_or(std::string("drop")), path + " escalation"));
  return {};
}

// [censor.dpi]
Status read_dpi(const toml::table& root, const std::string& path, Scenario& s) {
  const auto dpi = root["censor"]["dpi"];
  // Its whole-second options are integers in [min, max]; the error names the option.
  auto dpi_integer = [&](const char* key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
    return integer_in(dpi[key], fallback, min, max, path + " dpi " + key);
  };
  s.dpi_enabled = dpi["enabled"].value_or(true);
  s.dpi_inline = dpi["inline"].value_or(true);
  s.dpi.fully_encrypted = dpi["fully_encrypted"].value_or(false);
  s.dpi.block_probability =
      SZ_TRY(real_in(dpi["block_probability"], 0.26, 0, 1, path + " dpi block_probability"));
  s.dpi.block_seconds = static_cast<int>(SZ_TRY(dpi_integer("block_seconds", 180, 0, 86400)));
  s.dpi.action = SZ_TRY(block_action(dpi["block"].value_or(std::string("drop")), path + " dpi"));
  s.dpi.sni_reset = strings(dpi["sni_reset"]);
  s.dpi.sni_throttle = strings(dpi["sni_throttle"]);
  s.dpi.sni_flow_seconds = static_cast<int>(SZ_TRY(dpi_integer("sni_flow_seconds", 600, 0, 86400)));
  s.dpi.block_protocols = strings(dpi["block_protocols"]);
  s.dpi.block_risks = strings(dpi["block_risks"]);
  s.dpi.protocol_block_seconds =
      static_cast<int>(SZ_TRY(dpi_integer("protocol_block_seconds", 180, 0, 86400)));
  s.dpi.ndpi_max_packets = static_cast<int>(SZ_TRY(dpi_integer("ndpi_max_packets", 24, 1, 1000)));
  s.dpi.seed = static_cast<std::uint64_t>(SZ_TRY(dpi_integer("seed", 0, 0, INT64_MAX)));
  return {};
}

// [censor.prober]
Status read_prober(const toml::table& root, const std::string& path, Scenario& s) {
  const auto prober = root["censor"]["prober"];
  s.prober.enabled = prober["enabled"].value_or(false);
  s.prober.read_timeout_s =
      SZ_TRY(real_in(prober["read_timeout_s"], 2.0, 0.01, 600, path + " prober read_timeout_s"));
  s.prober.delay_s = SZ_TRY(real_in(prober["delay_s"], 0.0, 0, 600, path + " prober delay_s"));
  if (!(s.prober.delay_s >= 0 && s.prober.delay_s <= 600))
    return bad(path, "prober delay_s must be in [0, 600]");
  s.prober.block_on_replay = prober["block_on_replay"].value_or(true);
  s.prober.block_on_threshold = prober["block_on_threshold"].value_or(true);
  s.prober.action = SZ_TRY(block_action(prober["block"].value_or(std::string("drop")), path + " prober"));
  return {};
}

// [bystander_checks]
Status read_bystander_checks(const toml::table& root, const std::string& path, Scenario& s) {
  const auto checks = root["bystander_checks"];
  s.checks.from_host = checks["from"].value_or(std::string());
  s.checks.interval_s =
      SZ_TRY(real_in(checks["interval_s"], 5.0, 0.05, 3600, path + " bystander_checks interval_s"));
  s.checks.timeout_s =
      SZ_TRY(real_in(checks["timeout_s"], 2.0, 0.01, 600, path + " bystander_checks timeout_s"));
  return {};
}

// Across sections: every named host must exist and sit on the right side; setup steps run on
// the message sender unless they name a host.
Status check_host_references(const toml::table&, const std::string& path, Scenario& s) {
  auto find_host = [&](const std::string& name) -> const ScenarioHost* {
    for (const auto& h : s.hosts) {
      if (h.spec.name == name) return &h;
    }
    return nullptr;
  };
  const auto* service_host = find_host(s.service.host);
  if (service_host == nullptr || service_host->spec.side != Side::outside) {
    return bad(path, "[service] host '" + s.service.host + "' must be an outside [[host]]");
  }
  for (const auto& name : {s.messages.sender_host, s.messages.receiver_host}) {
    const auto* h = find_host(name);
    if (h == nullptr || h->spec.side != Side::inside)
      return bad(path, "message host '" + name + "' must be inside");
  }
  if (!s.checks.from_host.empty()) {
    const auto* h = find_host(s.checks.from_host);
    if (h == nullptr || h->spec.side != Side::inside)
      return bad(path, "bystander_checks.from must be an inside host");
  }
  for (const auto& name : s.escalation.informants) {
    if (find_host(name) == nullptr) return bad(path, "escalation informant '" + name + "' is not a host");
  }
  for (auto& subject : s.subjects) {
    for (auto& step : subject.setup) {
      if (step.host.empty()) step.host = s.messages.sender_host;
      if (find_host(step.host) == nullptr) {
        return bad(path, "[[subject." + subject.name + ".setup]] host '" + step.host + "' is not a host");
      }
    }
  }
  return {};
}

}  // namespace

Result<Scenario> parse_scenario(const std::string& text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return make_error(Errc::malformed, path + ":" + where.str() + ": " + std::string(e.description()));
  }
  // In file order, the first error wins; the cross-references last, once every section is read.
  static constexpr SectionReader kSections[] = {
      read_header,   read_hosts,  read_service,          read_subjects,
      read_messages, read_events, read_censor,           read_escalation,
      read_dpi,      read_prober, read_bystander_checks, check_host_references};
  Scenario s;
  for (auto read_section : kSections) SZ_CHECK(read_section(root, path, s));
  return s;
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::io, "cannot read scenario " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

}  // namespace samizdat::censor
