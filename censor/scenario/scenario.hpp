// A scenario file (TOML, censor/scenarios/*.toml): the topology, the service under
// test and its subjects (the command lines that play the Samizdat server/client or
// the plain control), the messages to send, and what the censor does and when.
// docs/CENSORSHIP.md documents every key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "censor/block/firewall.hpp"
#include "censor/dpi/passive_dpi.hpp"
#include "censor/probe/active_prober.hpp"
#include "censor/topology/topology.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

struct BystanderSpec {
  std::string kind;  // "http" (nginx-light serving a page) or "tcp" (a banner/echo service)
  std::uint16_t port = 80;
};

struct ScenarioHost {
  HostSpec spec;
  std::optional<BystanderSpec> bystander;
  std::string dns_name;  // published by the censor's resolver when set
};

// A step run once, before the censor starts (accounts, keys, contact exchange): what a
// user did before the block began, so it is not counted as a user action.
struct SetupStep {
  std::string host;     // the host whose namespace runs it (default: the message sender)
  std::string command;  // sh -c, after {placeholder} expansion; must exit 0
  double timeout_s = 30;
};

// One way of playing the service: the plain control, Samizdat, ...
struct SubjectSpec {
  std::string name;
  std::string description;
  std::string server;            // started on the service host, once, in the background
  std::string send;              // one message: exit 0 when the server acknowledged it
  std::string receive;           // prints received messages, one per line
  std::string fetch;             // optional bulk download (media); prints JSON with "bits_per_second"
  std::vector<SetupStep> setup;  // in order, after the server listens, before the censor starts
  std::vector<std::string> requires_files;  // skipped (reported as such) when any is missing
  // A person can look up the service's newest address and reconfigure by hand; each time
  // that is needed it counts as a user action (Samizdat must need none).
  bool user_can_switch_address = false;
  // "publish_map" events: the operator's command (run on the service host, {address} = the
  // new endpoint's address) that adds the endpoint to the signed network map and publishes
  // it (in-band: the running server offers it), and the dnsmasq TXT snippet it writes,
  // which the resolver then serves (the DNS channel). Empty: the subject has no map.
  std::string publish_map;
  std::string map_dns_records;
  std::map<std::string, std::string> vars;  // extra {placeholders}
};

struct ServiceSpec {
  std::string host;  // the outside host that runs the subject's server
  std::uint16_t port = 443;
  std::string dns_name;                // e.g. "msg.example"
  std::string sni;                     // the name the client puts in its TLS ClientHello, if any
  std::vector<std::string> addresses;  // where the service is reachable; [0] is announced first
};

struct MessagesSpec {
  std::string sender_host;
  std::string receiver_host;
  std::string mailbox = "bob";
  double interval_s = 1.0;
  double send_timeout_s = 4.0;
  double deliver_timeout_s = 6.0;
  double receive_poll_s = 0.5;
  double fetch_interval_s = 0;  // 0: no media fetches
  double judge_after_s =
      -1;  // "cut off" = nothing delivered that was sent after this (default 3/4 of the run)
  double fetch_timeout_s = 20;
};

struct ScenarioEvent {
  double at_s = 0;
  // "registry", "move", "publish_map" (the operator announces a new address: a new signed
  // map for subjects that have one, a public announcement a person can act on otherwise),
  // "poison_dns", "note"
  std::string action;
  std::string file;    // registry: the dump.csv (relative to the scenario file)
  double delay_s = 0;  // registry: applied this long after the event (RKN's lag)
  BlockAction block = BlockAction::drop;
  bool poison_domains = true;        // registry: also poison the dump's domains in DNS
  std::string address;               // move, publish_map: the address the service announces now
  std::vector<std::string> domains;  // poison_dns
  std::string text;                  // note
};

struct EscalationSpec {
  bool enabled = false;
  std::vector<std::string> informants;  // inside hosts whose connections reveal service addresses
  std::vector<std::uint16_t> ports;     // only connections to these ports (empty: any)
  double round_s = 3.0;                 // how often the censor reviews and escalates
  double start_s = 0;                   // the first review (e.g. after the registry landed)
  std::vector<std::string> levels = {"address", "/24", "/16", "cloud"};
  std::vector<std::string> cloud_ranges;
  BlockAction action = BlockAction::drop;
};

struct CheckSpec {
  std::string from_host;  // an inside host that only checks bystanders
  double interval_s = 5.0;
  double timeout_s = 2.0;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string path;  // the file it came from
  double duration_s = 30;
  std::vector<ScenarioHost> hosts;
  ServiceSpec service;
  std::vector<SubjectSpec> subjects;
  MessagesSpec messages;
  std::vector<ScenarioEvent> events;
  EscalationSpec escalation;
  bool dpi_enabled = true;
  bool dpi_inline = true;  // hold first data packets until judged (when first-packet rules are on)
  DpiPolicy dpi;
  ProberPolicy prober;
  std::uint64_t throttle_bits_per_second = 150'000;
  std::vector<std::string> dns_poisoned;  // from the start
  CheckSpec checks;

  [[nodiscard]] const SubjectSpec* subject(const std::string& name) const;
  [[nodiscard]] std::string resolve_path(const std::string& relative) const;
};

Result<Scenario> parse_scenario(const std::string& toml_text, const std::string& path);
Result<Scenario> load_scenario(const std::string& path);

// Replaces {name} with vars[name]; unknown placeholders are an error (a typo must not
// silently become an empty argument).
Result<std::string> expand(const std::string& pattern, const std::map<std::string, std::string>& vars);

}  // namespace samizdat::censor
