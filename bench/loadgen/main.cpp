// samizdat-loadgen: load benchmarks of a real samizdatd on loopback (docs/BENCHMARKS.md,
// "Server"). Starts the server in a temp directory, registers devices, then either
//   --pairs N      senders -> partner mailboxes: delivered msgs/s, p50/p99/p999 latency
//   --idle-connections N   authenticated idle connections: server RSS per connection
//   both with --concurrent: the pairs chat while the idle connections are held (one server)
// over --transport tcp|obfs (every connection through transport::dial)
// and prints a table plus one JSON line per result. Envelopes are opaque random bytes:
// the E2E layer's cost is measured separately (bench_crypto).
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "crypto/secret.hpp"
#include "load_runs.hpp"
#include "support/interrupt_cleanup.hpp"

#ifndef SAMIZDAT_DEFAULT_SERVER_BINARY
#define SAMIZDAT_DEFAULT_SERVER_BINARY "samizdatd"
#endif

using namespace samizdat;
using namespace samizdat::loadgen;

namespace {

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Every connection is a descriptor here and one in the server (the child inherits the
// limit). Raising the hard limit needs CAP_SYS_RESOURCE; without it we stop with a clear
// message rather than fail half-way through a run.
Status raise_open_files(std::uint64_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= wanted) return {};
  rlimit raised{wanted, std::max<rlim_t>(wanted, limit.rlim_max)};
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return {};
  raised = {limit.rlim_max, limit.rlim_max};
  ::setrlimit(RLIMIT_NOFILE, &raised);
  if (limit.rlim_max >= wanted) return {};
  return make_error(Errc::limit_exceeded,
                    "this run needs " + std::to_string(wanted) +
                        " open files per process but the hard "
                        "limit is " +
                        std::to_string(limit.rlim_max) +
                        " and it cannot be raised here (no CAP_SYS_RESOURCE): raise `ulimit -Hn` as root "
                        "(and fs.nr_open), or use fewer connections");
}

void print_pairs(const PairsResult& r, const LoadOptions& o, const std::string& transport,
                 const std::string& cpus, std::size_t server_threads) {
  std::printf(
      "\n== pairs run over %s%s (%s%s)\n", transport.c_str(),
      o.concurrent ? (" beside " + std::to_string(o.idle_connections) + " idle connections").c_str() : "",
      r.mode.c_str(),
      r.mode == "paced" ? (" at " + std::to_string(static_cast<long>(r.target_rate)) + " msgs/s").c_str()
                        : "");
  std::printf(
      "  pairs %zu, payload %zu B, %zu envelope(s) per send, window %zu, measured %.1f s after %.1f s "
      "warm-up, cores %s, server threads %zu\n",
      o.pairs, o.payload, o.batch, o.window, o.duration_s, o.warmup_s, cpus.c_str(), server_threads);
  std::printf("  %-28s %14.0f msgs/s\n", "delivered (measured window)", r.delivered_per_s);
  std::printf("  %-28s %14.0f msgs/s\n", "accepted durable (window)", r.sent_per_s);
  std::printf("  %-28s p50 %.2f ms  p99 %.2f ms  p999 %.2f ms  max %.2f ms\n", "latency send -> push",
              r.p50_ms, r.p99_ms, r.p999_ms, r.max_ms);
  std::printf("  %-28s sent %llu, accepted %llu, delivered %llu, duplicates %llu, acked %llu, errors %llu\n",
              "totals (incl. warm-up)", static_cast<unsigned long long>(r.sent),
              static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.delivered),
              static_cast<unsigned long long>(r.duplicates), static_cast<unsigned long long>(r.acked),
              static_cast<unsigned long long>(r.send_errors));
  std::printf("  %-28s server %.0f%%, loadgen %.0f%% (of one core)\n", "CPU in window",
              100 * r.server_cpu_s / r.window_s, 100 * r.loadgen_cpu_s / r.window_s);
  std::string threads;
  for (double seconds : r.server_thread_cpu_s)
    threads += " " + std::to_string(static_cast<int>(100 * seconds / r.window_s)) + "%";
  std::printf("  %-28s%s (main, store writer, workers...)\n", "server CPU per thread", threads.c_str());
  std::printf("  %-28s %.2f (other work on this shared machine competes for the cores)\n",
              "load average (1 min)", load_average());
  std::printf("  %-28s registered %.1f MiB, connected %.1f MiB, after %.1f MiB\n", "server RSS",
              mib(r.rss_before), mib(r.rss_connected), mib(r.rss_after));
  if (!r.first_error.empty()) std::printf("  first error: %s\n", r.first_error.c_str());
}

nlohmann::json pairs_json(const PairsResult& r, const LoadOptions& o, const std::string& transport,
                          const std::string& cpus, std::size_t server_threads) {
  return {{"benchmark", "samizdat-loadgen"},
          {"run", "pairs"},
          {"transport", transport},
          {"concurrent_idle_connections", o.concurrent ? o.idle_connections : 0},
          {"mode", r.mode},
          {"target_rate", r.target_rate},
          {"pairs", o.pairs},
          {"payload_bytes", o.payload},
          {"envelopes_per_send", o.batch},
          {"window", o.window},
          {"duration_s", o.duration_s},
          {"warmup_s", o.warmup_s},
          {"cpus", cpus},
          {"server_threads", server_threads},
          {"client_threads", o.client_threads},
          {"delivered_per_s", r.delivered_per_s},
          {"accepted_per_s", r.sent_per_s},
          {"latency_ms", {{"p50", r.p50_ms}, {"p99", r.p99_ms}, {"p999", r.p999_ms}, {"max", r.max_ms}}},
          {"sent", r.sent},
          {"accepted", r.accepted},
          {"delivered", r.delivered},
          {"duplicates", r.duplicates},
          {"acked", r.acked},
          {"errors", r.send_errors},
          {"first_error", r.first_error},
          {"server_cpu_s", r.server_cpu_s},
          {"loadgen_cpu_s", r.loadgen_cpu_s},
          {"server_thread_cpu_s", r.server_thread_cpu_s},
          {"loadavg_1m_at_end", load_average()},
          {"server_rss_registered_bytes", r.rss_before},
          {"server_rss_connected_bytes", r.rss_connected},
          {"server_rss_after_bytes", r.rss_after},
          {"server_rss_per_connection_bytes",
           (static_cast<double>(r.rss_connected) - static_cast<double>(r.rss_before)) / (2.0 * o.pairs)}};
}

void print_idle(const IdleResult& r, const std::string& transport, const std::string& cpus,
                std::size_t server_threads) {
  std::printf("\n== idle connections over %s (cores %s, server threads %zu)\n", transport.c_str(),
              cpus.c_str(), server_threads);
  std::printf(
      "  %-30s %zu of %zu (to %zu server port(s), %zu source addresses), %zu still open after the hold\n",
      "opened", r.opened, r.requested, r.server_ports, r.source_addresses, r.still_open);
  std::printf("  %-30s register %.1f s, connect+handshake+ping %.1f s\n", "time", r.register_s, r.open_s);
  std::printf(
      "  %-30s start %.1f MiB, devices registered %.1f MiB, connected %.1f MiB, after hold %.1f MiB\n",
      "server RSS", mib(r.rss_start), mib(r.rss_registered), mib(r.rss_connected), mib(r.rss_held));
  if (r.rss_during > 0)
    std::printf("  %-30s %.1f MiB (idle connections + the pairs' devices and connections)\n",
                "server RSS after the pairs run", mib(r.rss_during));
  std::printf("  %-30s %.1f s\n", "held with pings", r.held_s);
  std::printf("  %-30s %.0f bytes (%.2f KiB)\n", "server RSS per connection", r.bytes_per_connection,
              r.bytes_per_connection / 1024);
  std::printf("  %-30s %.1f MiB -> %.1f MiB (both ends of every loopback connection)\n", "kernel TCP memory",
              mib(r.kernel_tcp_before), mib(r.kernel_tcp_connected));
  std::printf("  %-30s %llu sent, %llu answered\n", "keepalive pings",
              static_cast<unsigned long long>(r.pings_sent), static_cast<unsigned long long>(r.pongs));
  if (!r.first_error.empty()) std::printf("  first error: %s\n", r.first_error.c_str());
}

nlohmann::json idle_json(const IdleResult& r, const LoadOptions& o, const std::string& transport,
                         const std::string& cpus, std::size_t server_threads) {
  return {{"benchmark", "samizdat-loadgen"},
          {"run", "idle"},
          {"transport", transport},
          {"concurrent_pairs", o.concurrent ? o.pairs : 0},
          {"held_s", r.held_s},
          {"server_rss_after_pairs_bytes", r.rss_during},
          {"connections_requested", r.requested},
          {"connections_opened", r.opened},
          {"connections_open_after_hold", r.still_open},
          {"failed", r.failed},
          {"first_error", r.first_error},
          {"source_addresses", r.source_addresses},
          {"server_ports", r.server_ports},
          {"cpus", cpus},
          {"server_threads", server_threads},
          {"hold_s", o.hold_s},
          {"ping_interval_s", o.ping_interval_s},
          {"register_s", r.register_s},
          {"open_s", r.open_s},
          {"server_rss_start_bytes", r.rss_start},
          {"server_rss_registered_bytes", r.rss_registered},
          {"server_rss_connected_bytes", r.rss_connected},
          {"server_rss_after_hold_bytes", r.rss_held},
          {"server_rss_per_connection_bytes", r.bytes_per_connection},
          {"kernel_tcp_memory_before_bytes", r.kernel_tcp_before},
          {"kernel_tcp_memory_connected_bytes", r.kernel_tcp_connected},
          {"pings", r.pings_sent},
          {"pongs", r.pongs},
          {"loadavg_1m_at_end", load_average()}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samizdat-loadgen: load benchmarks of a real samizdatd on loopback"};
  LoadOptions o;
  std::string server_binary = SAMIZDAT_DEFAULT_SERVER_BINARY;
  std::size_t server_threads = 2;
  double server_request_rate = 1e6;
  unsigned cores = 2;
  app.add_option("--pairs", o.pairs, "sender/receiver device pairs (0 = no pairs run)");
  app.add_option("--rate", o.rate, "envelopes/s over all pairs; 0 = open loop (saturation)");
  app.add_option("--latency-at", o.latency_at,
                 "after an open-loop run, a paced run at this fraction of its delivered rate (e.g. 0.5)");
  app.add_option("--duration", o.duration_s, "measured seconds")->check(CLI::Range(0.5, 600.0));
  app.add_option("--warmup", o.warmup_s, "warm-up seconds before measuring")->check(CLI::Range(0.0, 120.0));
  app.add_option("--payload", o.payload, "bytes of opaque ciphertext per envelope")
      ->check(CLI::Range(16, 65536));
  app.add_option("--batch", o.batch, "envelopes per send request (1..100)")->check(CLI::Range(1, 100));
  app.add_option("--window", o.window, "outstanding send requests per sender")->check(CLI::Range(1, 1000));
  app.add_option("--max-messages", o.max_messages, "cap on envelopes sent per run");
  app.add_option("--idle-connections", o.idle_connections, "authenticated idle connections to hold")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--source-addresses", o.source_addresses,
                 "connect from 127.0.1.1..127.0.1.N (0 = automatic: one per 20,000 idle connections)")
      ->check(CLI::Range(0, 250));
  app.add_option("--handshake-concurrency", o.handshake_concurrency, "handshakes in flight")
      ->check(CLI::Range(1, 10'000));
  app.add_option("--hold", o.hold_s, "idle: seconds to hold the connections")->check(CLI::Range(0.0, 3600.0));
  app.add_option("--ping-interval", o.ping_interval_s,
                 "idle: keepalive ping interval per connection, seconds")
      ->check(CLI::Range(1.0, 3600.0));
  std::string transport = "tcp";
  std::size_t listeners = 0;
  app.add_option("--listeners", listeners,
                 "server ports (all --transport) the idle connections are spread over; 0 = one per 20,000 "
                 "connections (one source address has ~28K ports per server port)")
      ->check(CLI::Range(0, 64));
  app.add_option("--transport", transport,
                 "the server listens on, and every connection dials, this transport")
      ->check(CLI::IsMember({"tcp", "obfs"}));
  app.add_flag("--concurrent", o.concurrent,
               "with --idle-connections and --pairs: one server; the pairs run while the idle connections "
               "are held with pings");
  app.add_option("--client-threads", o.client_threads, "load generator threads")->check(CLI::Range(1, 64));
  app.add_option("--server-threads", server_threads, "samizdatd worker threads (0 = one per core)");
  app.add_option("--server-request-rate", server_request_rate,
                 "per-connection request rate limit given to the server (its default is 50/s)");
  app.add_option("--cores", cores, "pin loadgen and server to cores 0..N-1");
  app.add_option("--server-binary", server_binary,
                 "samizdatd to start (a wrapper script must exec it: a forked child escapes the cleanup)");
  double time_limit = 0;
  app.add_option("--time-limit", time_limit,
                 "abort (stopping the server, removing its directory) after this many seconds; "
                 "0 = derived from the run's options");
  CLI11_PARSE(app, argc, argv);
  if (o.pairs == 0 && o.idle_connections == 0) {
    std::fprintf(stderr, "samizdat-loadgen: give --pairs N and/or --idle-connections N\n");
    return 2;
  }

  crypto::ensure_initialized();
  testing::install_cleanup_on_signal();
  // Every run is bounded: a server or connection that stops answering cannot hang us.
  if (time_limit <= 0) {
    double phases = o.latency_at > 0 ? 2 : 1;
    time_limit = 300 + phases * (o.warmup_s + o.duration_s + o.drain_timeout_s) + o.hold_s +
                 static_cast<double>(2 * o.pairs + o.idle_connections) / 100.0;
  }
  std::thread([time_limit] {
    std::this_thread::sleep_for(std::chrono::duration<double>(time_limit));
    std::fprintf(stderr, "samizdat-loadgen: time limit of %.0f s reached, aborting\n", time_limit);
    ::raise(SIGTERM);
  }).detach();
  std::string cpus = pin_to_cores(cores);
  // One descriptor per connection in each process, plus the database, listeners, logs.
  if (transport != "tcp" && o.source_addresses > 0) {
    std::fprintf(stderr,
                 "samizdat-loadgen: --source-addresses works only with --transport tcp (transport::dial "
                 "has no source address); use --listeners to pass ~28,000 connections per source\n");
    return 2;
  }
  if (o.concurrent && (o.pairs == 0 || o.idle_connections == 0)) {
    std::fprintf(stderr, "samizdat-loadgen: --concurrent needs both --pairs and --idle-connections\n");
    return 2;
  }
  std::uint64_t files =
      (o.concurrent ? 2 * o.pairs + o.idle_connections : std::max(2 * o.pairs, o.idle_connections)) + 512;
  if (auto raised = raise_open_files(files); !raised.ok()) {
    std::fprintf(stderr, "samizdat-loadgen: %s\n", raised.error().message.c_str());
    return 1;
  }

  ServerSettings settings;
  settings.binary = server_binary;
  settings.max_open_files = files;
  settings.transport = transport;
  std::size_t connections = o.idle_connections + (o.concurrent ? 2 * o.pairs : 0);
  settings.listeners = listeners != 0 ? listeners : std::max<std::size_t>(1, (connections + 19'999) / 20'000);
  settings.config["threads"] = std::to_string(server_threads);
  settings.config["log_level"] = "'warn'";
  if (server_request_rate > 0) {
    settings.config["requests_per_second"] = std::to_string(server_request_rate);
    settings.config["request_burst"] = std::to_string(server_request_rate);
  }
  int exit_code = 0;
  auto print_pairs_results = [&](const std::vector<PairsResult>& results) {
    for (const auto& r : results) {
      print_pairs(r, o, transport, cpus, server_threads);
      std::printf("%s\n", pairs_json(r, o, transport, cpus, server_threads).dump().c_str());
    }
  };
  if (o.idle_connections > 0) {
    auto server = ServerProcess::start(settings);
    if (!server.ok()) {
      std::fprintf(stderr, "samizdat-loadgen: %s\n", server.error().message.c_str());
      return 1;
    }
    // --concurrent: the pairs run on this server while the idle connections are held.
    std::optional<Result<std::vector<PairsResult>>> pairs_results;
    std::function<void()> while_held;
    if (o.concurrent) while_held = [&] { pairs_results.emplace(run_pairs(**server, o)); };
    auto result = run_idle(**server, o, while_held);
    if (!result.ok()) {
      std::fprintf(stderr, "samizdat-loadgen: idle run: %s\n", result.error().describe().c_str());
      return 1;
    }
    if (!(*server)->alive()) {
      std::fprintf(stderr, "samizdat-loadgen: the server died during the idle run\n");
      exit_code = 1;
    }
    print_idle(*result, transport, cpus, server_threads);
    std::printf("%s\n", idle_json(*result, o, transport, cpus, server_threads).dump().c_str());
    if (result->failed > 0 || result->still_open < result->opened) exit_code = 1;
    if (pairs_results) {
      if (!pairs_results->ok()) {
        std::fprintf(stderr, "samizdat-loadgen: pairs run: %s\n", pairs_results->error().describe().c_str());
        return 1;
      }
      print_pairs_results(**pairs_results);
    }
  }
  if (o.pairs > 0 && !o.concurrent) {
    auto server = ServerProcess::start(settings);
    if (!server.ok()) {
      std::fprintf(stderr, "samizdat-loadgen: %s\n", server.error().message.c_str());
      return 1;
    }
    auto results = run_pairs(**server, o);
    if (!results.ok()) {
      std::fprintf(stderr, "samizdat-loadgen: pairs run: %s\n", results.error().describe().c_str());
      return 1;
    }
    if (!(*server)->alive()) {
      std::fprintf(stderr, "samizdat-loadgen: the server died during the pairs run\n");
      exit_code = 1;
    }
    print_pairs_results(*results);
  }
  std::fflush(stdout);
  return exit_code;
}
