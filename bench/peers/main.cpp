// samizdat-peers: Samizdat next to the servers an operator would otherwise deploy, in one
// run on one machine (docs/BENCHMARKS.md, "Peers"; issue 7). For each system it starts the
// server on 127.0.0.1 with a config in a temp directory, runs the loadgen's pairs workload
// (saturation, then paced at --latency-at of it) and the fan-out case, reads the server's
// RSS before/after connecting, stops it, and prints a table with ratios to Samizdat
// (also written as markdown and JSON lines).
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../loadgen/load_runs.hpp"
#include "../loadgen/server_process.hpp"
#include "crypto/secret.hpp"
#include "driver.hpp"
#include "peer.hpp"
#include "relay_server.hpp"
#include "support/interrupt_cleanup.hpp"
#include "support/temp_dir.hpp"

#ifndef SAMIZDAT_DEFAULT_SERVER_BINARY
#define SAMIZDAT_DEFAULT_SERVER_BINARY "samizdatd"
#endif

using namespace samizdat;
using namespace samizdat::peers;

namespace samizdat::peers {
std::unique_ptr<Peer> make_relay_peer();
std::unique_ptr<Peer> make_mosquitto_peer(int qos);
std::unique_ptr<Peer> make_redis_peer();
std::unique_ptr<Peer> make_nats_peer(bool jetstream);

Result<std::unique_ptr<Peer>> make_peer(const std::string& name) {
  if (name == "epoll-relay") return make_relay_peer();
  if (name == "mosquitto-qos1") return make_mosquitto_peer(1);
  if (name == "mosquitto-qos0") return make_mosquitto_peer(0);
  if (name == "redis-pubsub") return make_redis_peer();
  if (name == "nats-core") return make_nats_peer(false);
  if (name == "nats-jetstream") return make_nats_peer(true);
  return make_error(Errc::invalid_argument, "unknown system '" + name +
                                                "' (samizdat, epoll-relay, mosquitto-qos1, mosquitto-qos0, "
                                                "redis-pubsub, nats-core, nats-jetstream)");
}
}  // namespace samizdat::peers

namespace {

void raise_open_files() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// One system's results in one workload.
struct Row {
  std::string system, workload, guarantee;
  bool ok = false;
  std::string error;
  loadgen::PairsResult saturation, paced;
  bool has_paced = false;
  double connections = 0;
  double loadavg_start = 0, loadavg_end = 0;
  double rss_per_connection() const {
    if (connections <= 0) return 0;
    return (static_cast<double>(saturation.rss_connected) - static_cast<double>(saturation.rss_before)) /
           connections;
  }
};

nlohmann::json result_json(const loadgen::PairsResult& r) {
  return {{"mode", r.mode},
          {"target_rate", r.target_rate},
          {"delivered_per_s", r.delivered_per_s},
          {"accepted_per_s", r.sent_per_s},
          {"latency_ms", {{"p50", r.p50_ms}, {"p99", r.p99_ms}, {"p999", r.p999_ms}, {"max", r.max_ms}}},
          {"sent", r.sent},
          {"accepted", r.accepted},
          {"delivered", r.delivered},
          {"duplicates", r.duplicates},
          {"expected_deliveries", r.expected_deliveries},
          {"missing", r.missing},
          {"given_up", r.given_up},
          {"errors", r.send_errors},
          {"first_error", r.first_error},
          {"server_cpu_s", r.server_cpu_s},
          {"loadgen_cpu_s", r.loadgen_cpu_s},
          {"window_s", r.window_s},
          {"server_rss_before_bytes", r.rss_before},
          {"server_rss_connected_bytes", r.rss_connected},
          {"server_rss_after_bytes", r.rss_after}};
}

nlohmann::json row_json(const Row& row, const loadgen::LoadOptions& o, const std::string& cpus) {
  nlohmann::json j = {{"benchmark", "samizdat-peers"},
                      {"system", row.system},
                      {"workload", row.workload},
                      {"ok", row.ok},
                      {"error", row.error},
                      {"guarantee", row.guarantee},
                      {"payload_bytes", o.payload},
                      {"window", o.window},
                      {"duration_s", o.duration_s},
                      {"warmup_s", o.warmup_s},
                      {"cpus", cpus},
                      {"client_threads", o.client_threads},
                      {"connections", row.connections},
                      {"server_rss_per_connection_bytes", row.rss_per_connection()},
                      {"loadavg_1m_start", row.loadavg_start},
                      {"loadavg_1m_end", row.loadavg_end},
                      {"saturation", result_json(row.saturation)}};
  if (row.has_paced) j["paced"] = result_json(row.paced);
  return j;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string ratio(double v, double base) {
  if (base <= 0 || v <= 0) return "—";
  return fmt("%.2f×", v / base);
}

// The markdown table of one workload, ratios to the Samizdat row.
std::string table(const std::vector<Row>& rows, const std::string& workload) {
  const Row* base = nullptr;
  for (const auto& r : rows) {
    if (r.workload == workload && r.system == "samizdat" && r.ok) base = &r;
  }
  std::ostringstream out;
  out << "| system | delivered msgs/s (saturation) | × Samizdat | p50 ms | p99 ms | p999 ms | p99 × Samizdat "
         "| "
         "paced at msgs/s | server RSS/conn | RSS/conn × Samizdat | server CPU % (sat.) | lost/dup | load "
         "avg "
         "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    if (r.workload != workload) continue;
    if (!r.ok) {
      out << "| " << r.system << " | failed: " << r.error << " |||||||||||\n";
      continue;
    }
    const auto& s = r.saturation;
    const auto& p = r.has_paced ? r.paced : r.saturation;
    std::uint64_t expected = s.accepted;
    (void)expected;
    out << "| " << r.system << " | " << fmt("%.0f", s.delivered_per_s) << " | "
        << (base ? ratio(s.delivered_per_s, base->saturation.delivered_per_s) : "—") << " | "
        << fmt("%.2f", p.p50_ms) << " | " << fmt("%.2f", p.p99_ms) << " | " << fmt("%.2f", p.p999_ms) << " | "
        << (base ? ratio(p.p99_ms, (base->has_paced ? base->paced : base->saturation).p99_ms) : "—") << " | "
        << (r.has_paced ? fmt("%.0f", p.target_rate) : std::string("—")) << " | "
        << fmt("%.0f B", r.rss_per_connection()) << " | "
        << (base ? ratio(r.rss_per_connection(), base->rss_per_connection()) : "—") << " | "
        << fmt("%.0f", s.window_s > 0 ? 100 * s.server_cpu_s / s.window_s : 0) << " | "
        << (s.first_error.empty() && p.first_error.empty()
                ? std::to_string(s.missing + (r.has_paced ? p.missing : 0)) + "/" +
                      std::to_string(s.duplicates + (r.has_paced ? p.duplicates : 0))
                : "see notes")
        << " | " << fmt("%.1f", r.loadavg_start) << "–" << fmt("%.1f", r.loadavg_end) << " |\n";
  }
  for (const auto& r : rows) {
    if (r.workload != workload || !r.ok) continue;
    for (const auto* res : {&r.saturation, &r.paced}) {
      if (res->missing > 0) {
        out << "\n- " << r.system << " (" << res->mode << "): " << res->missing << " of "
            << res->expected_deliveries << " deliveries missing after the drain";
        if (res->given_up > 0) out << " (" << res->given_up << " messages given up as lost during the run)";
      }
      if (!res->first_error.empty())
        out << "\n- " << r.system << " (" << res->mode << "): " << res->first_error;
    }
  }
  out << "\n";
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--relay-server") {
    return run_relay_server(static_cast<std::uint16_t>(std::stoi(argv[2])));
  }
  CLI::App app{"samizdat-peers: Samizdat next to Mosquitto, Redis, NATS and an epoll relay, same harness"};
  loadgen::LoadOptions o;
  o.pairs = 1000;
  o.duration_s = 10;
  o.warmup_s = 3;
  o.latency_at = 0.5;
  o.drain_timeout_s = 10;
  std::string systems =
      "samizdat,epoll-relay,mosquitto-qos1,mosquitto-qos0,redis-pubsub,nats-core,nats-jetstream";
  std::size_t fanout = 100;
  std::string server_binary = SAMIZDAT_DEFAULT_SERVER_BINARY;
  std::string markdown_path, json_path;
  unsigned cores = 2;
  double time_limit = 0;
  app.add_option("--pairs", o.pairs, "sender/receiver pairs")->check(CLI::Range(1, 20000));
  app.add_option("--duration", o.duration_s, "measured seconds per phase")->check(CLI::Range(0.5, 600.0));
  app.add_option("--warmup", o.warmup_s, "warm-up seconds per phase")->check(CLI::Range(0.0, 120.0));
  app.add_option("--latency-at", o.latency_at,
                 "paced phase at this fraction of the saturation rate (0 = none)");
  app.add_option("--payload", o.payload, "bytes per message")->check(CLI::Range(16, 65536));
  app.add_option("--window", o.window, "outstanding messages per sender")->check(CLI::Range(1, 1000));
  app.add_option("--client-threads", o.client_threads, "harness threads")->check(CLI::Range(1, 64));
  app.add_option("--systems", systems, "comma-separated systems to run, in order");
  app.add_option("--fanout", fanout, "members of the fan-out group (0 = no fan-out run)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--server-binary", server_binary, "samizdatd");
  app.add_option("--cores", cores, "pin harness and servers to cores 0..N-1");
  app.add_option("--markdown", markdown_path, "also write the tables here");
  app.add_option("--json", json_path, "append one JSON line per system and workload here");
  app.add_option("--time-limit", time_limit, "abort after this many seconds (0 = derived)");
  CLI11_PARSE(app, argc, argv);

  crypto::ensure_initialized();
  testing::install_cleanup_on_signal();
  std::vector<std::string> names;
  {
    std::stringstream in(systems);
    std::string name;
    while (std::getline(in, name, ',')) {
      if (!name.empty()) names.push_back(name);
    }
  }
  double phases = o.latency_at > 0 ? 2 : 1;
  double per_run = 30 + phases * (o.warmup_s + o.duration_s + o.drain_timeout_s) + 2.0 * o.pairs / 200.0;
  if (time_limit <= 0) time_limit = 60 + per_run * static_cast<double>(names.size()) * (fanout > 0 ? 2 : 1);
  std::thread([time_limit] {
    std::this_thread::sleep_for(std::chrono::duration<double>(time_limit));
    std::fprintf(stderr, "samizdat-peers: time limit of %.0f s reached, aborting\n", time_limit);
    ::raise(SIGTERM);
  }).detach();
  std::string cpus = loadgen::pin_to_cores(cores);
  raise_open_files();

  std::vector<Row> rows;
  auto run_system = [&](const std::string& name, std::size_t flows, std::size_t members) {
    Row row;
    row.system = name;
    row.workload = members == 1 ? "pairs" : "fanout";
    row.loadavg_start = loadgen::load_average();
    row.connections = static_cast<double>(flows * (members + 1));
    std::fprintf(stderr, "samizdat-peers: %s, %s (%zu senders x %zu receivers)...\n", name.c_str(),
                 row.workload.c_str(), flows, members);
    loadgen::LoadOptions opts = o;
    Result<std::vector<loadgen::PairsResult>> results = make_error(Errc::internal, "not run");
    if (name == "samizdat") {
      row.guarantee = "send answered after the SQLite commit (synchronous=FULL, fsync); receivers ack";
      loadgen::ServerSettings settings;
      settings.binary = server_binary;
      settings.config["threads"] = "2";
      settings.config["log_level"] = "'warn'";
      settings.config["requests_per_second"] = "1000000";
      settings.config["request_burst"] = "1000000";
      auto server = loadgen::ServerProcess::start(settings);
      if (!server.ok()) {
        results = server.error();
      } else if (members == 1) {
        opts.pairs = flows;
        results = loadgen::run_pairs(**server, opts);
      } else {
        opts.pairs = flows;
        opts.fanout = members;
        results = loadgen::run_fanout(**server, opts);
      }
    } else {
      auto peer = make_peer(name);
      if (!peer.ok()) {
        results = peer.error();
      } else {
        row.guarantee = (*peer)->guarantee();
        auto dir = testing::TempDir::create("samizdat-peers-" + name, /*clean_up_on_interrupt=*/true);
        if (!dir.ok()) {
          results = dir.error();
        } else {
          auto started = (*peer)->start(dir->path());
          if (!started.ok()) {
            results = started.error();
          } else {
            FlowOptions f;
            f.flows = flows;
            f.members = members;
            results = run_flows(**peer, f, opts);
          }
          (*peer)->stop();
        }
      }
    }
    row.loadavg_end = loadgen::load_average();
    if (!results.ok()) {
      row.error = results.error().describe();
      std::fprintf(stderr, "samizdat-peers: %s failed: %s\n", name.c_str(), row.error.c_str());
    } else {
      row.ok = !results->empty();
      if (!results->empty()) row.saturation = (*results)[0];
      if (results->size() > 1) {
        row.paced = (*results)[1];
        row.has_paced = true;
      }
    }
    std::string line = row_json(row, o, cpus).dump();
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (!json_path.empty()) {
      std::ofstream out(json_path, std::ios::app);
      out << line << "\n";
    }
    rows.push_back(row);
  };
  for (const auto& name : names) run_system(name, o.pairs, 1);
  if (fanout > 0) {
    for (const auto& name : names) run_system(name, 1, fanout);
  }

  std::ostringstream md;
  md << "### " << o.pairs << " pairs, " << o.payload << "-byte messages, window " << o.window
     << " per sender (saturation: open loop; latency: paced at " << o.latency_at
     << " of each system's own saturation rate)\n\n"
     << table(rows, "pairs") << "\n";
  if (fanout > 0) {
    md << "### Fan-out: one sender to a " << fanout << "-member group (delivered = copies received)\n\n"
       << table(rows, "fanout") << "\n";
  }
  md << "Guarantees:\n\n";
  for (const auto& r : rows) {
    if (r.workload == "pairs") md << "- " << r.system << ": " << r.guarantee << "\n";
  }
  md << "\nCores " << cpus << " (harness and servers share them), " << o.client_threads
     << " harness threads, measured " << o.duration_s << " s after " << o.warmup_s
     << " s warm-up per phase; 1-minute load average at the end: " << fmt("%.2f", loadgen::load_average())
     << ".\n";
  std::printf("\n%s", md.str().c_str());
  if (!markdown_path.empty()) {
    std::ofstream out(markdown_path, std::ios::trunc);
    out << md.str();
  }
  bool all_ok = true;
  for (const auto& r : rows) all_ok = all_ok && r.ok;
  return all_ok ? 0 : 1;
}
