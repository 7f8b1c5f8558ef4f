#include "censor/scenario/runner.hpp"

#include <sodium.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "censor/block/dns_resolver.hpp"
#include "censor/block/firewall.hpp"
#include "censor/block/ipv4.hpp"
#include "censor/block/registry_dump.hpp"
#include "censor/sys/command.hpp"
#include "censor/topology/topology.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace samizdat::censor {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  auto at = t.rfind('\n');
  return at == std::string::npos ? t : t.substr(at + 1);
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const SubjectSpec& subject, const RunnerOptions& options)
      : sc_(scenario), subject_(subject), options_(options) {}

  ~ScenarioRun() { teardown(); }

  Result<RunReport> execute() {
    report_.scenario = sc_.name;
    report_.scenario_description = sc_.description;
    report_.subject = subject_.name;
    report_.subject_description = subject_.description;
    report_.started_at = now_iso();
    report_.duration_s = sc_.duration_s;
    report_.judge_after_s = sc_.messages.judge_after_s;
    std::error_code ec;
    fs::create_directories(options_.report_dir, ec);
    SZ_CHECK(build_vars());
    for (const auto& pattern : subject_.requires_files) {
      const std::string file = SZ_TRY(expand(pattern, vars_));
      if (!fs::exists(file)) {
        report_.status = "skipped";
        report_.status_detail = "needs " + file + ", which does not exist yet";
        return report_;
      }
    }
    SZ_CHECK(setup());
    exercise();
    SZ_CHECK(collect());
    teardown();
    return report_;
  }

 private:
  double now_s() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  bool interrupted() const { return options_.interrupted != nullptr && options_.interrupted->load(); }

  void note(const std::string& kind, const std::string& detail) {
    std::lock_guard lock(mutex_);
    report_.timeline.push_back({now_s(), kind, detail});
    spdlog::info("[{:6.1f}s] {}: {}", now_s(), kind, detail);
  }

  std::string service_address() {
    std::lock_guard lock(mutex_);
    return announced_address_;
  }

  Status build_vars() {
    vars_ = {{"control", options_.control_binary},
             {"bin_dir", options_.bin_dir},
             {"source_dir", options_.source_dir},
             {"report_dir", options_.report_dir},
             {"port", std::to_string(sc_.service.port)},
             {"dns_name", sc_.service.dns_name},
             {"sni", sc_.service.sni},
             {"mailbox", sc_.messages.mailbox},
             {"listen_addr", "0.0.0.0"},
             {"service_addresses", join(sc_.service.addresses, " ")}};
    // Addresses a publish_map event announces later: the server listens on them from the
    // start, but they are not in what clients get before the block (the bootstrap).
    std::vector<std::string> published_later, bootstrap;
    for (const auto& e : sc_.events) {
      if (e.action == "publish_map") published_later.push_back(e.address);
    }
    for (const auto& a : sc_.service.addresses) {
      if (std::find(published_later.begin(), published_later.end(), a) == published_later.end())
        bootstrap.push_back(a);
    }
    vars_["bootstrap_addresses"] = join(bootstrap, " ");
    vars_["published_addresses"] = join(published_later, " ");
    for (const auto& [name, value] : subject_.vars) vars_[name] = SZ_TRY(expand(value, vars_));
    return {};
  }

  Result<std::string> command_for(const std::string& pattern, std::map<std::string, std::string> extra) {
    auto vars = vars_;
    for (auto& [k, v] : extra) vars[k] = std::move(v);
    return expand(pattern, vars);
  }

  std::string host_ns(const std::string& name) const { return (*topology_->host(name))->ns.name(); }

  Status wait_listening(const std::string& ns, std::uint16_t port, double timeout_s) {
    const auto deadline = Clock::now() + ms(timeout_s);
    while (Clock::now() < deadline) {
      auto out = run({"ss", "-Hltn", "sport = :" + std::to_string(port)},
                     {.timeout = std::chrono::seconds(3), .netns = ns});
      if (out && out->exit_code == 0 && !out->out.empty()) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return make_error(Errc::timeout, "nothing listens on port " + std::to_string(port) + " in " + ns +
                                         " after " + std::to_string(timeout_s) + " s; see the logs in " +
                                         options_.report_dir);
  }

  Status start_bystander(const ScenarioHost& host) {
    const auto& b = *host.bystander;
    const std::string ns = host_ns(host.spec.name);
    const std::string log = options_.report_dir + "/bystander-" + host.spec.name + ".log";
    if (b.kind == "http") {
      const std::string dir = options_.report_dir + "/nginx-" + host.spec.name;
      fs::create_directories(dir + "/www");
      fs::create_directories(dir + "/tmp");
      std::ofstream(dir + "/www/index.html") << "<html><body><h1>" << host.spec.name
                                             << "</h1><p>An ordinary website sharing address space with the "
                                                "service.</p></body></html>\n";
      std::ofstream conf(dir + "/nginx.conf");
      conf << "user root;\nworker_processes 1;\npid " << dir << "/nginx.pid;\nerror_log " << dir
           << "/error.log;\nevents { worker_connections 128; }\nhttp {\n  access_log " << dir
           << "/access.log;\n  client_body_temp_path " << dir << "/tmp;\n  proxy_temp_path " << dir
           << "/tmp;\n  fastcgi_temp_path " << dir << "/tmp;\n  uwsgi_temp_path " << dir
           << "/tmp;\n  scgi_temp_path " << dir << "/tmp;\n  server {\n    listen " << b.port
           << ";\n    root " << dir << "/www;\n    location / { index index.html; }\n  }\n}\n";
      conf.close();
      bystanders_.push_back(SZ_TRY(BackgroundProcess::start(
          {"nginx", "-c", dir + "/nginx.conf", "-p", dir, "-g", "daemon off;"}, log, ns)));
    } else {
      bystanders_.push_back(SZ_TRY(BackgroundProcess::start(
          {options_.control_binary, "bystander", "--listen", "0.0.0.0:" + std::to_string(b.port), "--banner",
           "HELLO " + host.spec.name},
          log, ns)));
    }
    return wait_listening(ns, b.port, 5);
  }

  Status setup() {
    std::vector<HostSpec> specs;
    for (const auto& h : sc_.hosts) {
      HostSpec spec = h.spec;
      if (h.spec.name == sc_.service.host) {
        for (const auto& a : sc_.service.addresses) {
          if (std::find(spec.addresses.begin(), spec.addresses.end(), a) == spec.addresses.end()) {
            spec.addresses.push_back(a);
          }
        }
      }
      specs.push_back(spec);
    }
    topology_ = SZ_TRY(Topology::create(specs));
    announced_address_ = sc_.service.addresses.front();
    // The subject's server and its setup run before the censor exists: the accounts and
    // contacts were made before the block began (and the inline hold would stall setup
    // traffic with no DPI yet to judge it).
    const std::string server_cmd =
        SZ_TRY(command_for(subject_.server, {{"server_addr", announced_address_}}));
    server_ = SZ_TRY(BackgroundProcess::start(shell(server_cmd), options_.report_dir + "/server.log",
                                              host_ns(sc_.service.host)));
    if (auto listening = wait_listening(host_ns(sc_.service.host), sc_.service.port, 10); !listening) {
      std::ifstream log(options_.report_dir + "/server.log");
      std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      return make_error(Errc::unavailable, "the subject's server did not start listening on port " +
                                               std::to_string(sc_.service.port) + "; its last words: " +
                                               (text.empty() ? std::string("(nothing)") : last_line(text)));
    }

    SZ_CHECK(run_subject_setup());

    // First-packet rules need the verdict before the server answers: hold packets until judged.
    const bool first_packet_rules =
        sc_.dpi_enabled &&
        (sc_.dpi.fully_encrypted || !sc_.dpi.sni_reset.empty() || !sc_.dpi.sni_throttle.empty());
    FirewallOptions firewall_options{.throttle_bits_per_second = sc_.throttle_bits_per_second};
    if (first_packet_rules && sc_.dpi_inline) {
      firewall_options.hold_until_judged = topology_->censor_interfaces(Side::inside);
    }
    firewall_ = SZ_TRY(Firewall::install(topology_->censor_ns(), firewall_options));

    DnsOptions dns;
    dns.censor_ns = topology_->censor_ns();
    dns.listen_address = Topology::kCensorServiceAddress;
    dns.work_dir = options_.report_dir;
    if (!sc_.service.dns_name.empty()) dns.records[sc_.service.dns_name] = announced_address_;
    for (const auto& h : sc_.hosts) {
      if (!h.dns_name.empty()) dns.records[h.dns_name] = h.spec.addresses.front();
    }
    dns.poisoned = sc_.dns_poisoned;
    dns_ = SZ_TRY(DnsResolver::start(dns));

    for (const auto& h : sc_.hosts) {
      if (h.bystander) SZ_CHECK(start_bystander(h));
    }
    if (sc_.escalation.enabled) {
      escalation_ = SZ_TRY(EscalationPolicy::create(sc_.escalation.levels, sc_.escalation.cloud_ranges));
      for (const auto& name : sc_.escalation.informants) {
        for (const auto& a : (*topology_->host(name))->spec.addresses) informant_addresses_.push_back(a);
      }
    }
    t0_ = Clock::now();
    if (sc_.prober.enabled) {
      prober_ = SZ_TRY(
          ActiveProber::start(topology_->censor_ns(), sc_.prober, &*firewall_, [this](const ProbeResult& r) {
            note("probe", r.server + ":" + std::to_string(r.port) +
                              (r.decision.block ? " confirmed, address blocked" : " left alone"));
            if (r.decision.block) note("block", "prober " + to_string(sc_.prober.action) + " " + r.server);
          }));
    }
    DpiPolicy policy = sc_.dpi;
    policy.inline_hold = !firewall_options.hold_until_judged.empty();
    if (!sc_.dpi_enabled) {
      // Capture still runs (escalation learns from it), but judges nothing.
      policy.fully_encrypted = false;
      policy.sni_reset.clear();
      policy.sni_throttle.clear();
      policy.block_protocols.clear();
      policy.block_risks.clear();
    }
    DpiCallbacks callbacks;
    callbacks.on_block = [this](Mechanism m, BlockAction a, const std::string& target) {
      note("block", to_string(m) + " " + to_string(a) + " " + target);
    };
    callbacks.on_suspect = [this](const ProbeRequest& request) {
      if (prober_) prober_->request(request);
    };
    callbacks.on_connection = [this](const std::string& client, const std::string& server,
                                     std::uint16_t port) {
      if (!escalation_ || topology_->is_inside(server)) return;
      if (std::find(informant_addresses_.begin(), informant_addresses_.end(), client) ==
          informant_addresses_.end())
        return;
      const auto& ports = sc_.escalation.ports;
      if (!ports.empty() && std::find(ports.begin(), ports.end(), port) == ports.end()) return;
      std::lock_guard lock(escalation_mutex_);
      escalation_->learn(server);
    };
    dpi_ = SZ_TRY(PassiveDpi::start(topology_->censor_ns(), policy, &*firewall_, callbacks,
                                    {Topology::kCensorServiceAddress}));
    t0_ = Clock::now();
    return {};
  }

  Status run_subject_setup() {
    int index = 0;
    for (const auto& step : subject_.setup) {
      ++index;
      const std::string cmd = SZ_TRY(command_for(step.command, {{"server_addr", announced_address_}}));
      auto out = run(shell(cmd), {.timeout = ms(step.timeout_s), .netns = host_ns(step.host)});
      const std::string where = "setup step " + std::to_string(index) + " of subject " + subject_.name;
      if (!out) return make_error(out.error().code, where + ": " + out.error().message);
      {
        std::ofstream log(options_.report_dir + "/setup.log", std::ios::app);
        log << "## " << where << " on " << step.host << " (exit " << out->exit_code << ")\n$ " << cmd << "\n"
            << out->out << out->err << "\n";
      }
      if (out->exit_code != 0) {
        return make_error(Errc::unavailable, where + (out->timed_out ? " timed out" : " failed") + ": " +
                                                 last_line(out->err.empty() ? out->out : out->err) +
                                                 " (see " + options_.report_dir + "/setup.log)");
      }
    }
    return {};
  }

  // ---- the user's side ----

  bool try_send(const std::string& server_addr, const std::string& msg, int id, MessageRecord& record) {
    ++record.attempts;
    record.server_addr = server_addr;
    auto cmd = command_for(subject_.send,
                           {{"server_addr", server_addr}, {"msg", msg}, {"msg_id", std::to_string(id)}});
    if (!cmd) {
      record.error = cmd.error().message;
      return false;
    }
    auto out = run(shell(*cmd), {.timeout = ms(sc_.messages.send_timeout_s + 1),
                                 .netns = host_ns(sc_.messages.sender_host)});
    if (!out) {
      record.error = out.error().message;
      return false;
    }
    if (out->exit_code != 0) {
      record.error = out->timed_out ? "send timed out" : last_line(out->err.empty() ? out->out : out->err);
      return false;
    }
    return true;
  }

  void message_loop() {
    std::string known_address = sc_.service.addresses.front();
    for (int id = 1; !stop_ && !interrupted(); ++id) {
      const auto started = Clock::now();
      MessageRecord record;
      record.id = id;
      record.t_s = now_s();
      unsigned char nonce[4];
      randombytes_buf(nonce, sizeof nonce);
      const std::string msg = "m" + std::to_string(id) + "-" + hex_encode(ByteView(nonce, sizeof nonce));
      bool sent = try_send(known_address, msg, id, record);
      if (!sent && subject_.user_can_switch_address) {
        // The person notices, finds the address the service announced, and reconfigures.
        const std::string announced = service_address();
        if (announced != known_address) {
          ++record.user_actions;
          note("user_action", "message " + std::to_string(id) + ": user switches the client from " +
                                  known_address + " to the newly announced " + announced);
          known_address = announced;
          sent = try_send(known_address, msg, id, record);
        }
      }
      if (sent) {
        const auto deadline = started + ms(sc_.messages.deliver_timeout_s);
        while (Clock::now() < deadline && !interrupted()) {
          auto cmd =
              command_for(subject_.receive,
                          {{"server_addr", known_address}, {"msg", msg}, {"msg_id", std::to_string(id)}});
          if (!cmd) {
            record.error = cmd.error().message;
            break;
          }
          auto out = run(shell(*cmd), {.timeout = ms(sc_.messages.send_timeout_s + 1),
                                       .netns = host_ns(sc_.messages.receiver_host)});
          if (out && out->out.find(msg) != std::string::npos) {
            record.delivered = true;
            record.deliver_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
            record.error.clear();
            break;
          }
          if (out && out->exit_code != 0) {
            record.error = "receive: " + last_line(out->err);
            // The receiving side is the same person: they reconfigure too when the service moved.
            const std::string announced = service_address();
            if (subject_.user_can_switch_address && announced != known_address) {
              ++record.user_actions;
              note("user_action", "message " + std::to_string(id) + ": user switches the client from " +
                                      known_address + " to the newly announced " + announced);
              known_address = announced;
              continue;
            }
          }
          std::this_thread::sleep_for(ms(sc_.messages.receive_poll_s));
        }
        if (!record.delivered && record.error.empty()) record.error = "acknowledged but never received";
      }
      {
        std::lock_guard lock(mutex_);
        report_.messages.push_back(record);
      }
      std::this_thread::sleep_until(started + ms(sc_.messages.interval_s));
    }
  }

  void fetch_loop() {
    while (!stop_ && !interrupted()) {
      const auto started = Clock::now();
      FetchRecord record;
      record.t_s = now_s();
      auto cmd = command_for(subject_.fetch, {{"server_addr", service_address()}});
      if (!cmd) return;
      auto out = run(shell(*cmd), {.timeout = ms(sc_.messages.fetch_timeout_s + 2),
                                   .netns = host_ns(sc_.messages.sender_host)});
      if (out) {
        auto json = nlohmann::json::parse(last_line(out->out), nullptr, false);
        if (!json.is_discarded() && json.is_object()) {
          record.bits_per_second = json.value("bits_per_second", 0.0);
          record.seconds = json.value("seconds", 0.0);
        }
        record.complete = out->exit_code == 0;
        if (!record.complete) record.error = out->timed_out ? "timed out" : last_line(out->err);
      } else {
        record.error = out.error().message;
      }
      {
        std::lock_guard lock(mutex_);
        report_.fetches.push_back(record);
      }
      std::this_thread::sleep_until(started + ms(sc_.messages.fetch_interval_s));
    }
  }

  // One round of bystander checks, all at once; returns the names of the broken ones.
  std::vector<std::string> check_bystanders(const std::string& tag) {
    std::vector<std::string> broken;
    if (sc_.checks.from_host.empty()) return broken;
    std::vector<std::pair<const ScenarioHost*, std::future<Result<CommandOutput>>>> running;
    const double t = now_s();
    for (const auto& h : sc_.hosts) {
      if (!h.bystander) continue;
      Argv argv{options_.control_binary,
                "check",
                "--server",
                h.spec.addresses.front() + ":" + std::to_string(h.bystander->port),
                "--timeout",
                std::to_string(sc_.checks.timeout_s)};
      if (h.bystander->kind == "http") argv.push_back("--http");
      running.emplace_back(&h, std::async(std::launch::async, [argv, this] {
        return run(argv, {.timeout = ms(sc_.checks.timeout_s + 2), .netns = host_ns(sc_.checks.from_host)});
      }));
    }
    std::vector<BystanderCheck> checks;
    for (auto& [host, future] : running) {
      auto out = future.get();
      BystanderCheck check;
      check.t_s = t;
      check.name = host->spec.name;
      check.address = host->spec.addresses.front();
      check.kind = host->bystander->kind;
      check.tag = tag;
      check.reachable = out && out->exit_code == 0;
      check.detail = out ? last_line(out->exit_code == 0 ? out->out : out->err) : out.error().message;
      if (!check.reachable) broken.push_back(check.name);
      checks.push_back(std::move(check));
    }
    // Lock only to append: the DPI's callbacks must never wait for a check to time out.
    std::lock_guard lock(mutex_);
    for (auto& c : checks) report_.bystander_checks.push_back(std::move(c));
    return broken;
  }

  void check_loop() {
    while (!stop_ && !interrupted()) {
      const auto started = Clock::now();
      check_bystanders("periodic");
      while (!stop_ && !interrupted() && Clock::now() < started + ms(sc_.checks.interval_s)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  // ---- the censor's side ----

  void apply_event(const ScenarioEvent& e) {
    if (e.action == "note") {
      note("event", e.text);
    } else if (e.action == "move") {
      {
        std::lock_guard lock(mutex_);
        announced_address_ = e.address;
      }
      if (!sc_.service.dns_name.empty()) {
        if (auto s = dns_->set_record(sc_.service.dns_name, e.address); !s) note("error", s.error().message);
      }
      note("move", "service announces " + e.address);
    } else if (e.action == "publish_map") {
      publish_map(e);
    } else if (e.action == "poison_dns") {
      auto s = dns_->poison(e.domains);
      note(s ? "event" : "error",
           s ? "DNS poisoning of " + std::to_string(e.domains.size()) + " domains" : s.error().message);
      if (s) {
        for (const auto& d : e.domains) note("block", "dns_poison sinkhole " + d);
      }
    } else if (e.action == "registry") {
      auto dump = load_registry_dump(sc_.resolve_path(e.file));
      if (!dump) {
        note("error", dump.error().message);
        return;
      }
      note("event", "registry dump (" + std::to_string(dump->entries.size()) + " entries, updated " +
                        dump->updated + ") to be applied in " + std::to_string(e.delay_s) + " s");
      pending_registry_.push_back({now_s() + e.delay_s, e, *dump});
    }
  }

  // The operator announces a new address. Every subject's public announcement (and the
  // service's DNS name) points there, as for "move"; a subject with a network map also
  // runs its publish command on the service host (a new signed map, offered in-band by the
  // running server) and the resolver serves the map's DNS TXT records.
  void publish_map(const ScenarioEvent& e) {
    {
      std::lock_guard lock(mutex_);
      announced_address_ = e.address;
    }
    if (!sc_.service.dns_name.empty()) {
      if (auto s = dns_->set_record(sc_.service.dns_name, e.address); !s) note("error", s.error().message);
    }
    if (subject_.publish_map.empty()) {
      note("publish_map", "operator announces " + e.address + " (this subject has no network map)");
      return;
    }
    auto cmd = command_for(subject_.publish_map, {{"address", e.address}, {"server_addr", e.address}});
    if (!cmd) {
      note("error", "publish_map: " + cmd.error().message);
      return;
    }
    const auto started = Clock::now();
    auto out = run(shell(*cmd), {.timeout = std::chrono::seconds(30), .netns = host_ns(sc_.service.host)});
    {
      std::ofstream log(options_.report_dir + "/publish.log", std::ios::app);
      log << "## publish_map " << e.address << " at " << now_s() << " s (exit "
          << (out ? std::to_string(out->exit_code) : out.error().message) << ")\n$ " << *cmd << "\n"
          << (out ? out->out + out->err : std::string()) << "\n";
    }
    if (!out || out->exit_code != 0) {
      note("error", "publish_map " + e.address + " failed (see " + options_.report_dir + "/publish.log)");
      return;
    }
    const double took_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    std::string detail = "operator publishes a network map with " + e.address + " (in-band";
    if (!subject_.map_dns_records.empty()) {
      auto file = command_for(subject_.map_dns_records, {{"address", e.address}});
      auto served = file ? dns_->serve_txt_records(*file) : Result<std::size_t>(file.error());
      if (served) {
        detail += ", DNS TXT: " + std::to_string(*served) + " records";
      } else {
        note("error",
             "publish_map: the resolver cannot serve the map's TXT records: " + served.error().message);
      }
    }
    note("publish_map", detail + "; " + std::to_string(static_cast<int>(took_ms)) + " ms)");
  }

  void apply_registry(const ScenarioEvent& e, const RegistryDump& dump) {
    const auto prefixes = dump.all_prefixes();
    auto s = firewall_->block_prefixes(Mechanism::registry, e.block, prefixes);
    if (!s) {
      note("error", s.error().message);
      return;
    }
    for (const auto& p : prefixes) note("block", "registry " + to_string(e.block) + " " + p);
    if (escalation_) {
      std::lock_guard lock(escalation_mutex_);
      escalation_->assume_blocked(prefixes);
    }
    if (e.poison_domains && !dump.all_domains().empty()) {
      auto poisoned = dns_->poison(dump.all_domains());
      if (poisoned) {
        for (const auto& d : dump.all_domains()) note("block", "dns_poison sinkhole " + d);
      } else {
        note("error", poisoned.error().message);
      }
    }
  }

  void escalation_round() {
    EscalationStep step;
    {
      std::lock_guard lock(escalation_mutex_);
      step = escalation_->step();
    }
    if (step.new_prefixes.empty()) return;
    auto s = firewall_->block_prefixes(Mechanism::escalation, sc_.escalation.action, step.new_prefixes);
    if (!s) {
      note("error", s.error().message);
      return;
    }
    note("escalation", "level " + step.level_name + ": " + std::to_string(step.new_prefixes.size()) +
                           " new prefixes, " + std::to_string(step.addresses_blocked_total) +
                           " addresses blocked");
    for (const auto& p : step.new_prefixes)
      note("block", "escalation " + to_string(sc_.escalation.action) + " " + p);
    // Checked off the main loop so the campaign's clock keeps running while checks time out.
    const double t = now_s();
    pending_checks_.push_back(std::async(std::launch::async, [this, step, t] {
      EscalationRecord record;
      record.t_s = t;
      record.step = step;
      record.bystanders_broken = check_bystanders("after escalation to " + step.level_name);
      std::lock_guard lock(mutex_);
      report_.escalation.push_back(record);
    }));
  }

  void exercise() {
    check_bystanders("baseline");
    std::thread messages([this] { message_loop(); });
    std::thread fetches;
    if (!subject_.fetch.empty() && sc_.messages.fetch_interval_s > 0)
      fetches = std::thread([this] { fetch_loop(); });
    std::thread checks;
    if (!sc_.checks.from_host.empty()) checks = std::thread([this] { check_loop(); });

    std::vector<const ScenarioEvent*> events;
    for (const auto& e : sc_.events) events.push_back(&e);
    std::sort(events.begin(), events.end(), [](auto* a, auto* b) { return a->at_s < b->at_s; });
    std::size_t next_event = 0;
    double next_round = std::max(sc_.escalation.start_s, sc_.escalation.round_s);
    while (now_s() < sc_.duration_s && !interrupted()) {
      while (next_event < events.size() && events[next_event]->at_s <= now_s())
        apply_event(*events[next_event++]);
      for (auto it = pending_registry_.begin(); it != pending_registry_.end();) {
        if (it->at_s <= now_s()) {
          apply_registry(it->event, it->dump);
          it = pending_registry_.erase(it);
        } else {
          ++it;
        }
      }
      if (escalation_ && now_s() >= next_round) {
        escalation_round();
        next_round = now_s() + sc_.escalation.round_s;
      }
      if (!server_.running()) {
        note("error", "the subject's server exited; see " + options_.report_dir + "/server.log");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (interrupted()) note("error", "interrupted: stopping early");
    stop_ = true;
    for (auto& check : pending_checks_) check.get();
    {
      std::lock_guard lock(mutex_);
      std::sort(report_.escalation.begin(), report_.escalation.end(),
                [](const auto& a, const auto& b) { return a.t_s < b.t_s; });
    }
    messages.join();
    if (fetches.joinable()) fetches.join();
    if (checks.joinable()) checks.join();
    check_bystanders("final");
  }

  Status collect() {
    if (prober_) {
      prober_->stop();
      report_.probes = prober_->results();
    }
    if (dpi_) {
      dpi_->stop();
      report_.flows = dpi_->flows();
    }
    if (auto counters = firewall_->packet_counters()) report_.counters = *counters;
    std::vector<Ipv4Prefix> all;
    for (auto m : {Mechanism::registry, Mechanism::escalation, Mechanism::prober}) {
      for (auto a : {BlockAction::drop, BlockAction::reset}) {
        auto elements = firewall_->elements(Firewall::set_name(m, a));
        if (!elements) continue;
        for (const auto& e : *elements) {
          report_.blocked_prefixes.push_back(e);
          if (auto p = parse_ipv4_prefix(e)) all.push_back(*p);
        }
      }
    }
    report_.blocked_address_count = count_addresses(all);
    if (auto listing = firewall_->listing()) report_.firewall_listing = *listing;
    if (interrupted()) {
      report_.status = "error";
      report_.status_detail = "interrupted before the end of the scenario";
    }
    for (const auto& t : report_.timeline) {
      if (t.kind == "error" && report_.status == "ok") {
        report_.status = "error";
        report_.status_detail = t.detail;
      }
    }
    return {};
  }

  void teardown() {
    stop_ = true;
    if (prober_) prober_->stop();
    if (dpi_) dpi_->stop();
    server_.stop();
    bystanders_.clear();
    if (dns_) dns_->stop();
    topology_.reset();
  }

  struct PendingRegistry {
    double at_s;
    ScenarioEvent event;
    RegistryDump dump;
  };

  const Scenario& sc_;
  const SubjectSpec& subject_;
  const RunnerOptions& options_;
  std::map<std::string, std::string> vars_;
  RunReport report_;
  std::mutex mutex_;  // report_ and announced_address_
  std::string announced_address_;
  Clock::time_point t0_ = Clock::now();
  std::atomic<bool> stop_{false};
  std::unique_ptr<Topology> topology_;
  std::optional<Firewall> firewall_;
  std::optional<DnsResolver> dns_;
  std::vector<BackgroundProcess> bystanders_;
  BackgroundProcess server_;
  std::unique_ptr<PassiveDpi> dpi_;
  std::unique_ptr<ActiveProber> prober_;
  std::mutex escalation_mutex_;
  std::optional<EscalationPolicy> escalation_;
  std::vector<std::string> informant_addresses_;
  std::vector<PendingRegistry> pending_registry_;
  std::vector<std::future<void>> pending_checks_;
};

}  // namespace

Result<RunReport> run_subject(const Scenario& scenario, const SubjectSpec& subject,
                              const RunnerOptions& options) {
  ScenarioRun run(scenario, subject, options);
  return run.execute();
}

}  // namespace samizdat::censor
