#include "load_runs.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <thread>

#include "crypto/e2e/device_registration.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/secret.hpp"
#include "load_connection.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::loadgen {
namespace {

// Payload header: u64be send time (monotonic us) || u64be sequence number of the pair.
constexpr std::size_t kStampBytes = 16;

std::int64_t now_us() { return monotonic_micros(); }

void sleep_until_us(std::int64_t t) {
  auto delta = t - now_us();
  if (delta > 0) std::this_thread::sleep_for(std::chrono::microseconds(delta));
}

double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A device the load generator registers: account identity, device id, Noise key.
struct Device {
  crypto::Ed25519KeyPair identity;
  std::shared_ptr<const crypto::X25519KeyPair> noise;
  crypto::e2e::MailboxId mailbox{};
  static constexpr std::uint32_t kDeviceId = 1;
};

std::vector<Device> make_devices(std::size_t n, std::size_t threads) {
  std::vector<Device> devices(n);
  std::vector<std::thread> makers;
  threads = std::max<std::size_t>(1, threads);
  for (std::size_t t = 0; t < threads; ++t) {
    makers.emplace_back([&devices, t, threads] {
      for (std::size_t i = t; i < devices.size(); i += threads) {
        auto& d = devices[i];
        d.identity = crypto::Ed25519KeyPair::generate();
        d.noise = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
        d.mailbox = crypto::e2e::mailbox_id(d.identity.public_key, Device::kDeviceId);
      }
    });
  }
  for (auto& m : makers) m.join();
  return devices;
}

// One io_context per thread; coroutines are spawned onto a chosen one.
class Workers {
 public:
  explicit Workers(std::size_t n) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, n); ++i) {
      auto w = std::make_unique<Worker>();
      ios_.push_back(std::move(w));
    }
    for (auto& w : ios_) w->thread = std::thread([io = &w->io] { io->run(); });
  }
  ~Workers() { stop(); }
  std::size_t size() const { return ios_.size(); }
  asio::any_io_executor executor(std::size_t i) { return ios_[i % ios_.size()]->io.get_executor(); }
  // Runs fn on thread i and waits for it.
  template <class Fn>
  auto run_on(std::size_t i, Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto future = task.get_future();
    asio::post(ios_[i % ios_.size()]->io, [&task] { task(); });
    return future.get();
  }
  void stop() {
    for (auto& w : ios_) w->work.reset();
    for (auto& w : ios_) w->io.stop();
    for (auto& w : ios_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

 private:
  struct Worker {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> ios_;
};

asio::awaitable<void> wait_signal(asio::steady_timer& wake) {
  wake.expires_at(asio::steady_timer::time_point::max());
  auto [ec] = co_await wake.async_wait(use_tuple);
  (void)ec;
}

// ---------------------------------------------------------------------------------
// Registration: pipelined RegisterDevice requests over anonymous (NKpsk2) connections.

struct RegisterJob {
  const std::vector<Device>* devices = nullptr;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex mutex;
  std::string first_error;
};

asio::awaitable<void> register_worker(asio::any_io_executor executor, transport::Endpoint endpoint,
                                      std::shared_ptr<RegisterJob> job, std::size_t window) {
  DialSpec spec;
  spec.endpoint = endpoint;
  auto opened = co_await LoadConnection::open(executor, spec);
  if (!opened.ok()) {
    std::lock_guard lock(job->mutex);
    if (job->first_error.empty()) job->first_error = opened.error().describe();
    co_return;
  }
  auto conn = *opened;
  conn->start(nullptr);
  auto wake = std::make_shared<asio::steady_timer>(executor);
  auto failed = std::make_shared<bool>(false);
  for (;;) {
    while (conn->outstanding() >= window && conn->is_open()) co_await wait_signal(*wake);
    if (*failed || !conn->is_open()) break;
    std::size_t i = job->next.fetch_add(1);
    if (i >= job->devices->size()) break;
    const Device& device = (*job->devices)[i];
    wire::ClientMessage request;
    auto* reg = request.mutable_register_device();
    reg->set_identity_key(std::string(as_chars(device.identity.public_key)));
    reg->set_device_id(Device::kDeviceId);
    reg->set_noise_static_key(std::string(as_chars(device.noise->public_key)));
    auto signature =
        crypto::e2e::sign_device_registration(device.identity, Device::kDeviceId, device.noise->public_key);
    reg->set_signature(std::string(as_chars(signature)));
    auto sent = conn->send(request, [job, wake, failed](Result<wire::ServerMessage> reply) {
      if (reply.ok() && reply->has_device_registered()) {
        job->done.fetch_add(1);
      } else {
        *failed = true;
        std::lock_guard lock(job->mutex);
        if (job->first_error.empty())
          job->first_error = reply.ok() ? "unexpected reply to register_device" : reply.error().describe();
      }
      wake->cancel();
    });
    if (!sent.ok()) break;
  }
  while (conn->outstanding() > 0 && conn->is_open()) co_await wait_signal(*wake);
  conn->close();
}

Status register_devices(Workers& workers, const transport::Endpoint& endpoint,
                        const std::vector<Device>& devices) {
  auto job = std::make_shared<RegisterJob>();
  job->devices = &devices;
  std::vector<std::future<void>> done;
  const std::size_t connections = std::min<std::size_t>(8, std::max<std::size_t>(1, devices.size() / 64));
  for (std::size_t c = 0; c < connections; ++c) {
    auto executor = workers.executor(c);
    done.push_back(asio::co_spawn(executor, register_worker(executor, endpoint, job, 128), asio::use_future));
  }
  for (auto& f : done) f.get();
  if (job->done.load() != devices.size()) {
    return make_error(Errc::unavailable, "registered " + std::to_string(job->done.load()) + " of " +
                                             std::to_string(devices.size()) +
                                             " devices: " + job->first_error);
  }
  return {};
}

// ---------------------------------------------------------------------------------
// Opening device (IKpsk2) connections with bounded concurrency.

struct OpenJob {
  std::vector<std::size_t> devices;                          // indices into the device list
  std::vector<std::shared_ptr<LoadConnection>> connections;  // same order; null if failed
  std::size_t next = 0;                                      // touched on one thread only
  std::size_t failed = 0;
  std::string first_error;
};

asio::awaitable<void> open_worker(asio::any_io_executor executor, const std::vector<Device>* devices,
                                  OpenJob* job, std::vector<transport::Endpoint> endpoints,
                                  std::vector<asio::ip::address> sources, bool ping_first) {
  for (;;) {
    std::size_t slot = job->next++;
    if (slot >= job->devices.size()) co_return;
    std::size_t index = job->devices[slot];
    DialSpec spec;
    // Several server ports: one source address reaches each with its own ~28K ports.
    spec.endpoint = endpoints[index % endpoints.size()];
    spec.client_static = (*devices)[index].noise;
    spec.timeout = std::chrono::seconds(30);
    if (!sources.empty()) spec.source = sources[index % sources.size()];
    auto opened = co_await LoadConnection::open(executor, spec);
    if (!opened.ok()) {
      ++job->failed;
      if (job->first_error.empty()) job->first_error = opened.error().describe();
      continue;
    }
    auto conn = *opened;
    conn->start(nullptr);
    if (ping_first) {
      // The session is live and the server knows the device once a ping is answered.
      wire::ClientMessage ping;
      ping.mutable_ping()->set_nonce(index);
      auto pong = co_await conn->call(ping);
      if (!pong.ok()) {
        ++job->failed;
        if (job->first_error.empty()) job->first_error = pong.error().describe();
        continue;
      }
    }
    job->connections[slot] = std::move(conn);
  }
}

// Device indices per thread: `assign(i)` gives the thread of device i.
template <class Assign>
std::vector<std::unique_ptr<OpenJob>> open_connections(Workers& workers, const std::vector<Device>& devices,
                                                       const std::vector<transport::Endpoint>& endpoints,
                                                       const std::vector<asio::ip::address>& sources,
                                                       std::size_t concurrency, bool ping_first,
                                                       Assign assign) {
  std::vector<std::unique_ptr<OpenJob>> jobs;
  for (std::size_t t = 0; t < workers.size(); ++t) jobs.push_back(std::make_unique<OpenJob>());
  for (std::size_t i = 0; i < devices.size(); ++i) jobs[assign(i)]->devices.push_back(i);
  std::vector<std::future<void>> done;
  std::size_t per_thread = std::max<std::size_t>(1, concurrency / workers.size());
  for (std::size_t t = 0; t < workers.size(); ++t) {
    jobs[t]->connections.resize(jobs[t]->devices.size());
    auto executor = workers.executor(t);
    for (std::size_t k = 0; k < per_thread; ++k) {
      done.push_back(asio::co_spawn(
          executor, open_worker(executor, &devices, jobs[t].get(), endpoints, sources, ping_first),
          asio::use_future));
    }
  }
  for (auto& f : done) f.get();
  return jobs;
}

std::vector<asio::ip::address> source_addresses(std::size_t n) {
  std::vector<asio::ip::address> out;
  for (std::size_t i = 1; i <= n; ++i) {
    out.push_back(asio::ip::make_address_v4(0x7f000100u + static_cast<std::uint32_t>(i)));  // 127.0.1.i
  }
  return out;
}

// ---------------------------------------------------------------------------------
// The pairs run.

struct Window {
  std::int64_t start_us = 0;          // senders start
  std::int64_t measure_start_us = 0;  // warm-up ends
  std::int64_t measure_end_us = 0;    // senders stop
};

struct ThreadStats {
  std::atomic<std::uint64_t> sent{0}, accepted{0}, accepted_in_window{0}, errors{0};
  std::atomic<std::uint64_t> delivered{0}, delivered_in_window{0}, duplicates{0}, acked{0};
  std::atomic<std::size_t> senders_running{0};
  std::vector<std::uint32_t> latencies_us;  // receive time in the window; this thread only
  std::string first_error;                  // this thread only
  Window window;                            // set on this thread before each phase
};

struct Pair {
  std::shared_ptr<LoadConnection> sender, receiver;
  std::string to;                      // the receiver's mailbox
  std::vector<std::string> fanout_to;  // run_fanout: every member's mailbox (then `to` is unused)
  std::string filler;
  std::uint64_t next_seq = 0;
  std::vector<bool> seen;
  std::vector<std::uint64_t> pending_acks;
  bool ack_in_flight = false;
  std::unique_ptr<asio::steady_timer> wake;
  ThreadStats* stats = nullptr;
};

void flush_acks(Pair* pair) {
  if (!pair->receiver) return;
  if (pair->ack_in_flight || pair->pending_acks.empty() || !pair->receiver->is_open()) return;
  wire::ClientMessage request;
  for (auto id : pair->pending_acks) request.mutable_ack_envelopes()->add_envelope_ids(id);
  pair->pending_acks.clear();
  pair->ack_in_flight = true;
  auto count = static_cast<std::uint64_t>(request.ack_envelopes().envelope_ids_size());
  auto sent = pair->receiver->send(request, [pair, count](Result<wire::ServerMessage> reply) {
    pair->ack_in_flight = false;
    if (reply.ok()) pair->stats->acked.fetch_add(count, std::memory_order_relaxed);
    flush_acks(pair);  // acks that piled up meanwhile go in one request
  });
  if (!sent.ok()) pair->ack_in_flight = false;
}

void on_push(Pair* pair, const wire::EnvelopePush& push) {
  auto& stats = *pair->stats;
  std::int64_t now = now_us();
  bool in_window = now >= stats.window.measure_start_us && now < stats.window.measure_end_us;
  for (const auto& envelope : push.envelopes()) {
    pair->pending_acks.push_back(envelope.id());
    const auto& sealed = envelope.sealed();
    if (sealed.size() < kStampBytes) continue;
    auto* bytes = reinterpret_cast<const std::uint8_t*>(sealed.data());
    auto stamp = static_cast<std::int64_t>(get_u64_be(bytes));
    auto seq = get_u64_be(bytes + 8);
    if (seq >= pair->seen.size()) pair->seen.resize(std::max<std::size_t>(seq + 1, pair->seen.size() * 2));
    if (pair->seen[seq]) {
      stats.duplicates.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    pair->seen[seq] = true;
    stats.delivered.fetch_add(1, std::memory_order_relaxed);
    if (in_window) {
      stats.delivered_in_window.fetch_add(1, std::memory_order_relaxed);
      stats.latencies_us.push_back(
          static_cast<std::uint32_t>(std::clamp<std::int64_t>(now - stamp, 0, UINT32_MAX)));
    }
  }
  flush_acks(pair);
}

struct SendPlan {
  double interval_us = 0;  // between requests of one sender; 0 = open loop
  std::size_t batch = 1;
  std::size_t window = 4;
  std::size_t payload = 256;
  std::uint64_t max_sent_per_thread = 0;
};

asio::awaitable<void> send_loop(Pair* pair, SendPlan plan) {
  auto& stats = *pair->stats;
  auto& conn = *pair->sender;
  const Window window = stats.window;
  asio::steady_timer pace(pair->wake->get_executor());
  // Spread senders over one interval so paced sends do not arrive in lockstep.
  double next = static_cast<double>(window.start_us) +
                plan.interval_us * (static_cast<double>(crypto::random_uniform(1000)) / 1000.0);
  std::string payload(plan.payload, '\0');
  std::copy_n(pair->filler.begin(), std::min(pair->filler.size(), payload.size()), payload.begin());
  for (;;) {
    std::int64_t now = now_us();
    if (now >= window.measure_end_us ||
        stats.sent.load(std::memory_order_relaxed) >= plan.max_sent_per_thread)
      break;
    std::int64_t stamp = now;
    if (plan.interval_us > 0) {
      next += plan.interval_us;
      if (next > static_cast<double>(now)) {
        pace.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(next) - now));
        auto [ec] = co_await pace.async_wait(use_tuple);
        (void)ec;
      }
      // Latency counts from when the send was due, so a stalled sender cannot hide delay.
      stamp = static_cast<std::int64_t>(next);
    }
    while (conn.outstanding() >= plan.window && conn.is_open()) co_await wait_signal(*pair->wake);
    if (!conn.is_open()) {
      if (stats.first_error.empty()) stats.first_error = "a sender connection closed";
      break;
    }
    if (plan.interval_us <= 0) stamp = now_us();
    wire::ClientMessage request;
    auto* send = request.mutable_send_envelopes();
    for (std::size_t b = 0; b < plan.batch; ++b) {
      auto* bytes = reinterpret_cast<std::uint8_t*>(payload.data());
      if (payload.size() >= kStampBytes) {
        put_u64_be(bytes, static_cast<std::uint64_t>(stamp));
        put_u64_be(bytes + 8, pair->next_seq++);
      }
      if (pair->fanout_to.empty()) {
        auto* envelope = send->add_envelopes();
        envelope->set_mailbox(pair->to);
        envelope->set_ciphertext(payload);
      }
      // Fan-out: the same message (same sequence number) to every member.
      for (const auto& member : pair->fanout_to) {
        auto* envelope = send->add_envelopes();
        envelope->set_mailbox(member);
        envelope->set_ciphertext(payload);
      }
    }
    const std::uint64_t n = static_cast<std::uint64_t>(send->envelopes_size());
    auto sent = conn.send(request, [pair, n](Result<wire::ServerMessage> reply) {
      auto& s = *pair->stats;
      if (reply.ok() && reply->has_envelopes_accepted()) {
        s.accepted.fetch_add(n, std::memory_order_relaxed);
        auto t = now_us();
        if (t >= s.window.measure_start_us && t < s.window.measure_end_us)
          s.accepted_in_window.fetch_add(n, std::memory_order_relaxed);
      } else {
        s.errors.fetch_add(n, std::memory_order_relaxed);
        if (s.first_error.empty())
          s.first_error = reply.ok() ? "unexpected reply to send_envelopes" : reply.error().describe();
      }
      pair->wake->cancel();
    });
    if (!sent.ok()) {
      if (stats.first_error.empty()) stats.first_error = sent.error().describe();
      break;
    }
    stats.sent.fetch_add(n, std::memory_order_relaxed);
  }
  while (conn.outstanding() > 0 && conn.is_open()) co_await wait_signal(*pair->wake);
  stats.senders_running.fetch_sub(1);
}

double percentile(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(index, sorted.size() - 1)] / 1000.0;
}

PairsResult run_phase(Workers& workers, ServerProcess& server, std::vector<std::vector<Pair>>& pairs,
                      std::vector<std::unique_ptr<ThreadStats>>& stats, const LoadOptions& options,
                      double rate) {
  PairsResult result;
  result.mode = rate > 0 ? "paced" : "open-loop";
  result.target_rate = rate;
  Window window;
  window.start_us = now_us() + 50'000;
  window.measure_start_us = window.start_us + static_cast<std::int64_t>(options.warmup_s * 1e6);
  window.measure_end_us = window.measure_start_us + static_cast<std::int64_t>(options.duration_s * 1e6);
  SendPlan plan;
  plan.batch = options.batch;
  plan.window = options.window;
  plan.payload = options.payload;
  plan.max_sent_per_thread = std::max<std::uint64_t>(1, options.max_messages / workers.size());
  if (rate > 0) plan.interval_us = static_cast<double>(options.pairs * options.batch) * 1e6 / rate;
  // Fan-out: one sender, each request carries `fanout` envelopes.
  if (rate > 0 && options.fanout > 0)
    plan.interval_us = static_cast<double>(options.batch * options.fanout) * 1e6 / rate;
  for (std::size_t t = 0; t < workers.size(); ++t) {
    workers.run_on(t, [&, t] {
      auto& s = *stats[t];
      s.window = window;
      s.latencies_us.clear();
      s.sent = s.accepted = s.accepted_in_window = s.errors = 0;
      s.delivered = s.delivered_in_window = s.duplicates = s.acked = 0;
      s.first_error.clear();
      s.senders_running = 0;
      for (auto& pair : pairs[t]) {
        pair.seen.clear();
        pair.next_seq = 0;
        if (!pair.sender) continue;  // run_fanout: a member that only receives
        ++s.senders_running;
        asio::co_spawn(workers.executor(t), send_loop(&pair, plan),
                       samizdat::log_escape("load_runs: send_loop"));
      }
      return 0;
    });
  }
  sleep_until_us(window.measure_start_us);
  double server_cpu0 = cpu_seconds(server.pid());
  auto threads0 = thread_cpu_seconds(server.pid());
  double own_cpu0 = own_cpu_seconds();
  sleep_until_us(window.measure_end_us);
  result.server_cpu_s = cpu_seconds(server.pid()) - server_cpu0;
  auto threads1 = thread_cpu_seconds(server.pid());
  for (const auto& [tid, seconds] : threads1) {
    double before = 0;
    for (const auto& [tid0, seconds0] : threads0) {
      if (tid0 == tid) before = seconds0;
    }
    result.server_thread_cpu_s.push_back(seconds - before);
  }
  result.loadgen_cpu_s = own_cpu_seconds() - own_cpu0;
  result.window_s = options.duration_s;

  // Drain: senders finish their outstanding requests, every accepted envelope arrives.
  auto sum = [&](auto member) {
    std::uint64_t total = 0;
    for (auto& s : stats) total += ((*s).*member).load();
    return total;
  };
  auto drain_end = now_us() + static_cast<std::int64_t>(options.drain_timeout_s * 1e6);
  while (now_us() < drain_end) {
    std::size_t running = 0;
    for (auto& s : stats) running += s->senders_running.load();
    if (running == 0 && sum(&ThreadStats::delivered) >= sum(&ThreadStats::accepted) &&
        sum(&ThreadStats::acked) >= sum(&ThreadStats::delivered) + sum(&ThreadStats::duplicates))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<std::uint32_t> latencies;
  for (std::size_t t = 0; t < workers.size(); ++t) {
    workers.run_on(t, [&, t] {
      auto& s = *stats[t];
      latencies.insert(latencies.end(), s.latencies_us.begin(), s.latencies_us.end());
      if (result.first_error.empty()) result.first_error = s.first_error;
      return 0;
    });
  }
  result.sent = sum(&ThreadStats::sent);
  result.accepted = sum(&ThreadStats::accepted);
  result.send_errors = sum(&ThreadStats::errors);
  result.delivered = sum(&ThreadStats::delivered);
  result.duplicates = sum(&ThreadStats::duplicates);
  result.acked = sum(&ThreadStats::acked);
  result.expected_deliveries = result.accepted;
  result.missing = result.delivered < result.accepted ? result.accepted - result.delivered : 0;
  result.sent_per_s = static_cast<double>(sum(&ThreadStats::accepted_in_window)) / options.duration_s;
  result.delivered_per_s = static_cast<double>(sum(&ThreadStats::delivered_in_window)) / options.duration_s;
  std::sort(latencies.begin(), latencies.end());
  result.p50_ms = percentile(latencies, 0.50);
  result.p99_ms = percentile(latencies, 0.99);
  result.p999_ms = percentile(latencies, 0.999);
  result.max_ms = latencies.empty() ? 0 : latencies.back() / 1000.0;
  result.rss_after = rss_bytes(server.pid());
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------
Result<std::vector<PairsResult>> run_pairs(ServerProcess& server, const LoadOptions& options) {
  if (options.pairs == 0) return make_error(Errc::invalid_argument, "--pairs must be at least 1");
  Workers workers(options.client_threads);
  // Device 2p sends to device 2p+1; both of a pair live on thread p % threads.
  auto devices = make_devices(2 * options.pairs, options.client_threads);
  SZ_CHECK(register_devices(workers, server.endpoint(), devices));
  std::uint64_t rss_before = rss_bytes(server.pid());
  auto sources = source_addresses(options.source_addresses);
  auto jobs = open_connections(workers, devices, {server.endpoint()}, sources, options.handshake_concurrency,
                               true, [&](std::size_t i) { return (i / 2) % workers.size(); });
  for (auto& job : jobs) {
    if (job->failed > 0) {
      return make_error(Errc::network,
                        std::to_string(job->failed) + " device connections failed: " + job->first_error);
    }
  }
  std::uint64_t rss_connected = rss_bytes(server.pid());

  std::vector<std::unique_ptr<ThreadStats>> stats;
  std::vector<std::vector<Pair>> pairs(workers.size());
  for (std::size_t t = 0; t < workers.size(); ++t) {
    stats.push_back(std::make_unique<ThreadStats>());
    auto& job = *jobs[t];
    pairs[t].resize(job.devices.size() / 2);
    for (std::size_t k = 0; k + 1 < job.devices.size(); k += 2) {
      auto& pair = pairs[t][k / 2];
      pair.sender = job.connections[k];
      pair.receiver = job.connections[k + 1];
      pair.to = std::string(as_chars(devices[job.devices[k + 1]].mailbox));
      pair.filler = std::string(as_chars(crypto::random_bytes(options.payload)));
      pair.wake = std::make_unique<asio::steady_timer>(workers.executor(t));
      pair.stats = stats[t].get();
    }
  }
  // Receivers take pushes from now on (installed on their own thread).
  for (std::size_t t = 0; t < workers.size(); ++t) {
    workers.run_on(t, [&, t] {
      for (auto& pair : pairs[t]) {
        Pair* p = &pair;
        p->receiver->start([p](const wire::EnvelopePush& push) { on_push(p, push); });
      }
      return 0;
    });
  }

  std::vector<PairsResult> results;
  auto first = run_phase(workers, server, pairs, stats, options, options.rate);
  first.rss_before = rss_before;
  first.rss_connected = rss_connected;
  results.push_back(first);
  if (options.latency_at > 0 && options.rate == 0 && first.delivered_per_s > 0) {
    auto second =
        run_phase(workers, server, pairs, stats, options, first.delivered_per_s * options.latency_at);
    second.rss_before = rss_before;
    second.rss_connected = rss_connected;
    results.push_back(second);
  }
  for (std::size_t t = 0; t < workers.size(); ++t) {
    workers.run_on(t, [&, t] {
      for (auto& pair : pairs[t]) {
        pair.sender->close();
        pair.receiver->close();
        pair.wake->cancel();
      }
      return 0;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  workers.stop();
  return results;
}

// ---------------------------------------------------------------------------------
namespace {

struct IdleThread {
  std::atomic<std::uint64_t> pings{0}, pongs{0};
};

asio::awaitable<void> keepalive_loop(OpenJob* job, IdleThread* counters, std::int64_t end_us,
                                     double interval_s, const std::atomic<bool>* stop) {
  asio::steady_timer tick(co_await asio::this_coro::executor);
  const double tick_s = 0.1;
  std::size_t per_tick = static_cast<std::size_t>(
      std::ceil(static_cast<double>(job->connections.size()) * tick_s / std::max(interval_s, tick_s)));
  std::size_t index = 0;
  while (now_us() < end_us && !stop->load() && !job->connections.empty()) {
    for (std::size_t k = 0; k < per_tick; ++k, ++index) {
      auto& conn = job->connections[index % job->connections.size()];
      if (!conn || !conn->is_open()) continue;
      wire::ClientMessage ping;
      ping.mutable_ping()->set_nonce(index);
      auto sent = conn->send(ping, [counters](Result<wire::ServerMessage> reply) {
        if (reply.ok() && reply->has_pong()) counters->pongs.fetch_add(1, std::memory_order_relaxed);
      });
      if (sent.ok()) counters->pings.fetch_add(1, std::memory_order_relaxed);
    }
    tick.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await tick.async_wait(use_tuple);
    (void)ec;
  }
}

}  // namespace

Result<IdleResult> run_idle(ServerProcess& server, const LoadOptions& options,
                            const std::function<void()>& while_held) {
  IdleResult result;
  result.requested = options.idle_connections;
  std::size_t n = options.idle_connections;
  // Every connection from 127.0.0.1 through transport::dial, as a client connects, spread
  // over the server's listeners (ServerSettings::listeners: one per 20,000 connections,
  // since one source address has ~28K ports per server port); explicit source addresses
  // (tcp only) are the older way past that limit.
  result.source_addresses = options.source_addresses;
  result.server_ports = server.endpoints().size();
  Workers workers(options.client_threads);
  result.rss_start = rss_bytes(server.pid());
  auto devices = make_devices(n, options.client_threads);
  auto t0 = now_us();
  SZ_CHECK(register_devices(workers, server.endpoint(), devices));
  result.register_s = static_cast<double>(now_us() - t0) / 1e6;
  std::this_thread::sleep_for(std::chrono::seconds(1));  // registration connections are gone
  result.rss_registered = rss_bytes(server.pid());
  result.kernel_tcp_before = kernel_tcp_memory_bytes();

  auto sources = source_addresses(result.source_addresses);
  auto t1 = now_us();
  auto jobs = open_connections(workers, devices, server.endpoints(), sources, options.handshake_concurrency,
                               true, [&](std::size_t i) { return i % workers.size(); });
  result.open_s = static_cast<double>(now_us() - t1) / 1e6;
  for (auto& job : jobs) {
    result.failed += job->failed;
    if (result.first_error.empty()) result.first_error = job->first_error;
  }
  result.opened = n - result.failed;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the server settle
  result.rss_connected = rss_bytes(server.pid());
  result.kernel_tcp_connected = kernel_tcp_memory_bytes();

  // Hold them, with keepalive pings spread over each interval: for hold_s, or, with
  // while_held, for as long as it runs (then at least until hold_s has passed).
  std::vector<IdleThread> counters(workers.size());
  auto hold_start = now_us();
  auto end = hold_start + static_cast<std::int64_t>(options.hold_s * 1e6);
  std::atomic<bool> stop{false};
  std::vector<std::future<void>> done;
  for (std::size_t t = 0; t < workers.size(); ++t) {
    std::int64_t loop_end = while_held ? std::numeric_limits<std::int64_t>::max() : end;
    done.push_back(
        asio::co_spawn(workers.executor(t),
                       keepalive_loop(jobs[t].get(), &counters[t], loop_end, options.ping_interval_s, &stop),
                       asio::use_future));
  }
  if (while_held) {
    while_held();
    result.rss_during = rss_bytes(server.pid());
    sleep_until_us(end);
    stop = true;
  }
  for (auto& f : done) f.get();
  result.held_s = static_cast<double>(now_us() - hold_start) / 1e6;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // last pongs
  result.rss_held = rss_bytes(server.pid());
  for (auto& c : counters) {
    result.pings_sent += c.pings.load();
    result.pongs += c.pongs.load();
  }
  for (std::size_t t = 0; t < workers.size(); ++t) {
    result.still_open += workers.run_on(t, [&, t] {
      std::size_t open = 0;
      for (auto& conn : jobs[t]->connections) {
        if (conn && conn->is_open()) ++open;
        if (conn) conn->close();
      }
      return open;
    });
  }
  if (result.opened > 0) {
    result.bytes_per_connection =
        (static_cast<double>(result.rss_connected) - static_cast<double>(result.rss_registered)) /
        static_cast<double>(result.opened);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  workers.stop();
  return result;
}

}  // namespace samizdat::loadgen

namespace samizdat::loadgen {

// ---------------------------------------------------------------------------------
// The fan-out run: device 0 sends, devices 1..fanout receive. Reuses the pairs run's
// phases: the sender is a Pair with `fanout_to` and no receiver, each member a Pair with
// a receiver and no sender.
Result<std::vector<PairsResult>> run_fanout(ServerProcess& server, const LoadOptions& options) {
  if (options.fanout == 0) return make_error(Errc::invalid_argument, "fan-out needs at least one member");
  Workers workers(options.client_threads);
  auto devices = make_devices(1 + options.fanout, options.client_threads);
  SZ_CHECK(register_devices(workers, server.endpoint(), devices));
  std::uint64_t rss_before = rss_bytes(server.pid());
  auto jobs = open_connections(workers, devices, {server.endpoint()}, {}, options.handshake_concurrency, true,
                               [&](std::size_t i) { return i % workers.size(); });
  for (auto& job : jobs) {
    if (job->failed > 0) {
      return make_error(Errc::network,
                        std::to_string(job->failed) + " device connections failed: " + job->first_error);
    }
  }
  std::uint64_t rss_connected = rss_bytes(server.pid());

  std::vector<std::unique_ptr<ThreadStats>> stats;
  std::vector<std::vector<Pair>> pairs(workers.size());
  for (std::size_t t = 0; t < workers.size(); ++t) {
    stats.push_back(std::make_unique<ThreadStats>());
    auto& job = *jobs[t];
    pairs[t].resize(job.devices.size());
    for (std::size_t k = 0; k < job.devices.size(); ++k) {
      auto& pair = pairs[t][k];
      std::size_t device = job.devices[k];
      if (device == 0) {
        pair.sender = job.connections[k];
        for (std::size_t m = 1; m < devices.size(); ++m)
          pair.fanout_to.push_back(std::string(as_chars(devices[m].mailbox)));
        pair.filler = std::string(as_chars(crypto::random_bytes(options.payload)));
      } else {
        pair.receiver = job.connections[k];
      }
      pair.wake = std::make_unique<asio::steady_timer>(workers.executor(t));
      pair.stats = stats[t].get();
    }
  }
  for (std::size_t t = 0; t < workers.size(); ++t) {
    workers.run_on(t, [&, t] {
      for (auto& pair : pairs[t]) {
        Pair* p = &pair;
        if (p->receiver) p->receiver->start([p](const wire::EnvelopePush& push) { on_push(p, push); });
      }
      return 0;
    });
  }

  std::vector<PairsResult> results;
  auto first = run_phase(workers, server, pairs, stats, options, options.rate);
  first.rss_before = rss_before;
  first.rss_connected = rss_connected;
  results.push_back(first);
  if (options.latency_at > 0 && options.rate == 0 && first.delivered_per_s > 0) {
    auto second =
        run_phase(workers, server, pairs, stats, options, first.delivered_per_s * options.latency_at);
    second.rss_before = rss_before;
    second.rss_connected = rss_connected;
    results.push_back(second);
  }
  for (std::size_t t = 0; t < workers.size(); ++t) {
    workers.run_on(t, [&, t] {
      for (auto& pair : pairs[t]) {
        if (pair.sender) pair.sender->close();
        if (pair.receiver) pair.receiver->close();
        pair.wake->cancel();
      }
      return 0;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  workers.stop();
  return results;
}

}  // namespace samizdat::loadgen
