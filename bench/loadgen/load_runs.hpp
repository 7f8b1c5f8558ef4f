// The two load runs of samizdat-loadgen against one samizdatd:
//  - pairs: N sender devices each send 256-byte opaque envelopes to a partner device's
//    mailbox (open loop with a window of outstanding sends, or paced at a total rate);
//    partners receive pushes, take the latency from a timestamp inside the payload, and
//    ack in batches. Durable acks: the server answers a send only after its commit.
//  - idle: N registered devices hold authenticated (IKpsk2) connections with keepalive
//    pings; server RSS before and after gives the memory per connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace samizdat::loadgen {

struct LoadOptions {
  std::size_t pairs = 0;
  double rate = 0;         // envelopes/s over all pairs; 0 = open loop (saturation)
  double latency_at = 0;   // > 0: after the open-loop run, a paced run at this fraction of it
  double duration_s = 10;  // measured window
  double warmup_s = 2;
  std::size_t payload = 256;  // bytes of opaque ciphertext per envelope
  std::size_t batch = 1;      // envelopes per send_envelopes request
  std::size_t window = 4;     // outstanding send requests per sender
  std::size_t idle_connections = 0;
  std::size_t source_addresses = 0;  // 127.0.1.1 .. 127.0.1.N (tcp only); 0 = none
  std::size_t handshake_concurrency = 500;
  double hold_s = 10;           // idle: how long the connections are held after opening
  double ping_interval_s = 25;  // idle: keepalive per connection
  std::size_t client_threads = 2;
  double drain_timeout_s = 10;
  std::uint64_t max_messages = 50'000'000;  // cap on envelopes sent per run
  bool concurrent = false;                  // main: pairs run while the idle connections are held
  std::size_t fanout = 0;                   // run_fanout: group members (one envelope each per send request)
};

struct PairsResult {
  std::string mode;  // "open-loop" or "paced"
  double target_rate = 0;
  std::uint64_t sent = 0, accepted = 0, delivered = 0, duplicates = 0, acked = 0, send_errors = 0;
  // Deliveries of accepted messages (copies, in a fan-out) that had not arrived when the drain
  // ended, and how many messages the harness gave up on as lost during the run: a peer's
  // documented losses (e.g. Mosquitto past its queue limit), reported, not errors.
  std::uint64_t expected_deliveries = 0, missing = 0, given_up = 0;
  std::string first_error;
  double window_s = 0;
  double sent_per_s = 0, delivered_per_s = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double server_cpu_s = 0, loadgen_cpu_s = 0;
  std::vector<double> server_thread_cpu_s;  // per thread in the window: main, store writer, workers
  std::uint64_t rss_before = 0, rss_connected = 0, rss_after = 0;
};

struct IdleResult {
  std::size_t requested = 0, opened = 0, still_open = 0, failed = 0;
  std::string first_error;
  std::size_t source_addresses = 0;
  std::size_t server_ports = 1;  // listeners the connections were spread over
  double open_s = 0, register_s = 0;
  std::uint64_t rss_start = 0, rss_registered = 0, rss_connected = 0, rss_held = 0;
  std::uint64_t rss_during = 0;  // right after while_held returned (0 without it)
  double held_s = 0;             // how long the connections were held with pings
  std::uint64_t kernel_tcp_before = 0, kernel_tcp_connected = 0;
  std::uint64_t pings_sent = 0, pongs = 0;
  double bytes_per_connection = 0;
};

// Each returns results per phase; errors only for set-up failures (server, registration).
Result<std::vector<PairsResult>> run_pairs(ServerProcess& server, const LoadOptions& options);
// run_idle: with while_held, that runs (on this thread) while the connections are held
// with pings, e.g. a pairs run against the same server.
Result<IdleResult> run_idle(ServerProcess& server, const LoadOptions& options,
                            const std::function<void()>& while_held = {});
// Fan-out: one sender device sends each message to `options.fanout` member devices (one
// send_envelopes request with an envelope per member, as Client::flush_outbox does for a
// group); delivered/latency count every member's copy.
Result<std::vector<PairsResult>> run_fanout(ServerProcess& server, const LoadOptions& options);

}  // namespace samizdat::loadgen
