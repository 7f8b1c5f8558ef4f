#include "driver.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "../loadgen/server_process.hpp"
#include "crypto/secret.hpp"
#include "util/clock.hpp"

namespace samizdat::peers {
namespace {

constexpr std::size_t kStampBytes = 16;
// A flow whose window is full and that saw no ack/delivery for this long has lost messages
// (a system without acks may drop them): its window is released and the loss counted.
constexpr std::int64_t kStallUs = 2'000'000;

std::int64_t now_us() { return monotonic_micros(); }

double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void sleep_until_us(std::int64_t t) {
  auto delta = t - now_us();
  if (delta > 0) std::this_thread::sleep_for(std::chrono::microseconds(delta));
}

double percentile(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(index, sorted.size() - 1)] / 1000.0;
}

struct Phase {
  std::int64_t start_us = 0, measure_start_us = 0, measure_end_us = 0;
  double interval_us = 0;  // per flow; 0 = open loop
  std::size_t window = 4;
  std::uint64_t max_sent = 0;  // per thread
};

struct LoopStats {
  std::atomic<std::uint64_t> sent{0}, accepted{0}, accepted_in_window{0}, errors{0};
  std::atomic<std::uint64_t> delivered{0}, delivered_in_window{0}, duplicates{0}, lost{0};
  std::vector<std::uint32_t> latencies_us;  // loop thread only until joined
  std::string first_error;                  // loop thread only until joined
};

struct Flow;

struct Sink {
  Flow* flow = nullptr;
  std::vector<bool> seen;
};

struct Flow {
  PeerClient* sender = nullptr;
  std::vector<std::uint32_t> targets;  // channels published to per message
  std::size_t members = 1;             // copies that make a message complete
  std::vector<std::unique_ptr<Sink>> sinks;
  std::uint64_t next_seq = 0;
  std::uint64_t pending_acks = 0;     // publishes not yet acked (acking systems)
  std::uint64_t incomplete = 0;       // messages not yet delivered to every member
  std::vector<std::uint16_t> copies;  // per seq (non-acking systems)
  double next_due = 0;
  bool queued = false;  // in the ready list (open loop) or the schedule (paced)
  std::int64_t last_progress_us = 0;
  std::string payload;
};

class Loop {
 public:
  Loop(bool acks, std::vector<std::string>* errors) : acks_(acks) {
    (void)errors;
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  }
  ~Loop() { ::close(ep_); }

  void add_client(PeerClient* c) {
    clients_.push_back(c);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd(), &ev);
    polling_out_.push_back(false);
    index_[c] = clients_.size() - 1;
    touch(c);
  }
  void add_flow(std::unique_ptr<Flow> flow) { flows_.push_back(std::move(flow)); }
  std::vector<std::unique_ptr<Flow>>& flows() { return flows_; }
  LoopStats& stats() { return stats_; }

  // Wires the callbacks (on this loop's thread before the first phase).
  void wire() {
    for (auto& flow : flows_) {
      Flow* f = flow.get();
      f->sender->on_ack = [this, f](bool ok) { on_ack(f, ok); };
      for (auto& sink : f->sinks) {
        (void)sink;
      }
    }
  }
  void wire_sink(PeerClient* receiver, Sink* sink) {
    receiver->on_message = [this, sink](ByteView payload) { on_message(sink, payload); };
  }

  // Runs a phase (or, with phase.start_us == 0, just serves the connections) until `stop`.
  void run(const Phase& phase, const std::atomic<bool>& stop) {
    phase_ = phase;
    sending_ = phase.start_us != 0;
    stats_.latencies_us.clear();
    stats_.first_error.clear();
    for (auto* counter : {&stats_.sent, &stats_.accepted, &stats_.accepted_in_window, &stats_.errors,
                          &stats_.delivered, &stats_.delivered_in_window, &stats_.duplicates, &stats_.lost})
      counter->store(0);
    schedule_ = {};
    ready_.clear();
    if (sending_) {
      for (auto& flow : flows_) {
        Flow* f = flow.get();
        f->next_seq = 0;
        f->pending_acks = 0;
        f->incomplete = 0;
        f->copies.clear();
        for (auto& s : f->sinks) s->seen.clear();
        f->last_progress_us = phase.start_us;
        f->queued = true;
        if (phase.interval_us > 0) {
          f->next_due = static_cast<double>(phase.start_us) +
                        phase.interval_us * (static_cast<double>(crypto::random_uniform(1000)) / 1000.0);
          schedule_.push({f->next_due, f});
        } else {
          ready_.push_back(f);
        }
      }
    }
    std::vector<epoll_event> events(512);
    std::int64_t next_tick = now_us() + 100'000;
    while (!stop.load(std::memory_order_relaxed)) {
      std::int64_t now = now_us();
      if (sending_) send_due(now);
      flush_touched();
      std::int64_t wait_us = std::min<std::int64_t>(next_tick - now, 50'000);
      if (sending_ && !schedule_.empty() && now < phase_.measure_end_us)
        wait_us = std::min<std::int64_t>(wait_us, static_cast<std::int64_t>(schedule_.top().first) - now);
      if (!ready_.empty()) wait_us = 0;
      if (stalled_possible_ && sending_) wait_us = std::min<std::int64_t>(wait_us, 100'000);
      wait_us = std::max<std::int64_t>(wait_us, 0);
      timespec timeout{static_cast<time_t>(wait_us / 1'000'000),
                       static_cast<long>((wait_us % 1'000'000) * 1000)};
      int n = ::epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<PeerClient*>(events[i].data.ptr);
        if (events[i].events & EPOLLOUT) c->handle_write();
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) c->handle_read();
        touch(c);
      }
      now = now_us();
      if (now >= next_tick) {
        for (auto* c : clients_) {
          c->tick();
          touch(c);
        }
        next_tick = now + 100'000;
        if (sending_ && !acks_) release_stalled(now);
      }
    }
    sending_ = false;
  }

 private:
  void touch(PeerClient* c) {
    if (touched_set_.insert(c).second) touched_.push_back(c);
  }
  void flush_touched() {
    for (auto* c : touched_) {
      std::size_t i = index_[c];
      bool want = c->is_open() && c->wants_write();
      if (want != polling_out_[i]) {
        epoll_event ev{};
        ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
        ev.data.ptr = c;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd(), &ev);
        polling_out_[i] = want;
      }
    }
    touched_.clear();
    touched_set_.clear();
  }

  std::uint64_t outstanding(const Flow* f) const {
    if (acks_) return (f->pending_acks + f->targets.size() - 1) / f->targets.size();
    return f->incomplete;
  }

  bool window_open(const Flow* f) const { return outstanding(f) < phase_.window; }

  void send_due(std::int64_t now) {
    if (now < phase_.start_us) return;
    if (now >= phase_.measure_end_us || stats_.sent.load(std::memory_order_relaxed) >= phase_.max_sent) {
      ready_.clear();
      schedule_ = {};
      return;
    }
    if (phase_.interval_us > 0) {
      while (!schedule_.empty() && schedule_.top().first <= static_cast<double>(now)) {
        Flow* f = schedule_.top().second;
        schedule_.pop();
        f->queued = false;
        if (!window_open(f)) continue;  // re-queued when the window opens (on_progress)
        send_one(f, static_cast<std::int64_t>(f->next_due));
        f->next_due += phase_.interval_us;
        f->queued = true;
        schedule_.push({f->next_due, f});
      }
    } else {
      // Open loop: every ready flow fills its window.
      auto ready = std::move(ready_);
      ready_.clear();
      for (Flow* f : ready) {
        f->queued = false;
        while (window_open(f) && f->sender->is_open()) send_one(f, now_us());
      }
    }
  }

  void send_one(Flow* f, std::int64_t stamp) {
    auto* bytes = reinterpret_cast<std::uint8_t*>(f->payload.data());
    std::uint64_t seq = f->next_seq++;
    put_u64_be(bytes, static_cast<std::uint64_t>(stamp));
    put_u64_be(bytes + 8, seq);
    ByteView view(bytes, f->payload.size());
    for (auto channel : f->targets) {
      auto published = f->sender->publish(channel, view);
      if (!published.ok()) {
        stats_.errors.fetch_add(1, std::memory_order_relaxed);
        if (stats_.first_error.empty()) stats_.first_error = published.error().describe();
        continue;
      }
      ++f->pending_acks;
    }
    if (!acks_) {
      ++f->incomplete;
      if (seq >= f->copies.size()) f->copies.resize(std::max<std::size_t>(seq + 1, f->copies.size() * 2));
    }
    stats_.sent.fetch_add(1, std::memory_order_relaxed);
    touch(f->sender);
  }

  void on_progress(Flow* f) {
    f->last_progress_us = now_us();
    if (!sending_ || f->queued || !window_open(f)) return;
    std::int64_t now = now_us();
    if (now >= phase_.measure_end_us) return;
    f->queued = true;
    if (phase_.interval_us > 0) {
      // A paced flow that waited for its window sends now, stamped with when it was due.
      if (f->next_due <= static_cast<double>(now)) {
        send_one(f, static_cast<std::int64_t>(f->next_due));
        f->next_due += phase_.interval_us;
      }
      schedule_.push({f->next_due, f});
    } else {
      ready_.push_back(f);
    }
  }

  void on_ack(Flow* f, bool ok) {
    if (f->pending_acks > 0) --f->pending_acks;
    auto now = now_us();
    if (ok) {
      stats_.accepted.fetch_add(1, std::memory_order_relaxed);
      if (now >= phase_.measure_start_us && now < phase_.measure_end_us)
        stats_.accepted_in_window.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.errors.fetch_add(1, std::memory_order_relaxed);
      if (stats_.first_error.empty()) stats_.first_error = "a publish was refused by the server";
    }
    if (acks_) on_progress(f);
  }

  void on_message(Sink* sink, ByteView payload) {
    if (payload.size() < kStampBytes) return;
    std::int64_t now = now_us();
    auto stamp = static_cast<std::int64_t>(get_u64_be(payload.data()));
    auto seq = get_u64_be(payload.data() + 8);
    if (seq > (1ull << 32)) return;
    if (seq >= sink->seen.size()) sink->seen.resize(std::max<std::size_t>(seq + 1, sink->seen.size() * 2));
    if (sink->seen[seq]) {
      stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    sink->seen[seq] = true;
    stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    if (now >= phase_.measure_start_us && now < phase_.measure_end_us) {
      stats_.delivered_in_window.fetch_add(1, std::memory_order_relaxed);
      stats_.latencies_us.push_back(
          static_cast<std::uint32_t>(std::clamp<std::int64_t>(now - stamp, 0, UINT32_MAX)));
    }
    Flow* f = sink->flow;
    if (!acks_) {
      if (seq < f->copies.size() && ++f->copies[seq] == f->members && f->incomplete > 0) --f->incomplete;
      on_progress(f);
    } else {
      f->last_progress_us = now;
    }
  }

  void release_stalled(std::int64_t now) {
    for (auto& flow : flows_) {
      Flow* f = flow.get();
      if (f->incomplete > 0 && !window_open(f) && now - f->last_progress_us > kStallUs) {
        stats_.lost.fetch_add(f->incomplete, std::memory_order_relaxed);
        f->incomplete = 0;
        on_progress(f);
      }
    }
  }

  bool acks_;
  int ep_;
  Phase phase_;
  bool sending_ = false;
  bool stalled_possible_ = true;
  std::vector<PeerClient*> clients_;
  std::vector<bool> polling_out_;
  std::unordered_map<PeerClient*, std::size_t> index_;
  std::vector<PeerClient*> touched_;
  std::unordered_set<PeerClient*> touched_set_;
  std::vector<std::unique_ptr<Flow>> flows_;
  LoopStats stats_;
  std::vector<Flow*> ready_;
  using Due = std::pair<double, Flow*>;
  struct Later {
    bool operator()(const Due& a, const Due& b) const { return a.first > b.first; }
  };
  std::priority_queue<Due, std::vector<Due>, Later> schedule_;
};

// Runs every loop on its own thread until `done()` says so (checked every 20 ms).
template <class Done>
void run_loops(std::vector<std::unique_ptr<Loop>>& loops, const Phase& phase, Done done) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& loop : loops) threads.emplace_back([&loop, &phase, &stop] { loop->run(phase, stop); });
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : threads) t.join();
}

loadgen::PairsResult run_phase(Peer& peer, std::vector<std::unique_ptr<Loop>>& loops,
                               const FlowOptions& flows, const loadgen::LoadOptions& options, double rate) {
  loadgen::PairsResult result;
  result.mode = rate > 0 ? "paced" : "open-loop";
  result.target_rate = rate;
  Phase phase;
  phase.start_us = now_us() + 50'000;
  phase.measure_start_us = phase.start_us + static_cast<std::int64_t>(options.warmup_s * 1e6);
  phase.measure_end_us = phase.measure_start_us + static_cast<std::int64_t>(options.duration_s * 1e6);
  phase.window = options.window;
  phase.max_sent = std::max<std::uint64_t>(1, options.max_messages / loops.size());
  // `rate` counts deliveries (as the loadgen's); a fan-out message makes `members` of them.
  if (rate > 0) phase.interval_us = static_cast<double>(flows.flows * flows.members) * 1e6 / rate;

  auto sum = [&](std::atomic<std::uint64_t> LoopStats::*member) {
    std::uint64_t total = 0;
    for (auto& l : loops) total += (l->stats().*member).load();
    return total;
  };
  double server_cpu0 = 0, own_cpu0 = 0;
  std::vector<std::pair<int, double>> threads0;
  bool measured_start = false, measured_end = false;
  std::int64_t drain_end = phase.measure_end_us + static_cast<std::int64_t>(options.drain_timeout_s * 1e6);
  run_loops(loops, phase, [&] {
    std::int64_t now = now_us();
    if (!measured_start && now >= phase.measure_start_us) {
      server_cpu0 = loadgen::cpu_seconds(peer.pid());
      threads0 = loadgen::thread_cpu_seconds(peer.pid());
      own_cpu0 = own_cpu_seconds();
      measured_start = true;
    }
    if (!measured_end && now >= phase.measure_end_us) {
      result.server_cpu_s = loadgen::cpu_seconds(peer.pid()) - server_cpu0;
      double total = 0;
      for (const auto& [tid, seconds] : loadgen::thread_cpu_seconds(peer.pid())) {
        double before = 0;
        for (const auto& [tid0, s0] : threads0) {
          if (tid0 == tid) before = s0;
        }
        total += seconds - before;
        result.server_thread_cpu_s.push_back(seconds - before);
      }
      (void)total;
      result.loadgen_cpu_s = own_cpu_seconds() - own_cpu0;
      measured_end = true;
    }
    if (!measured_end) return false;
    if (now >= drain_end) return true;
    std::uint64_t sent = sum(&LoopStats::sent);
    std::uint64_t expected = sent * flows.members - sum(&LoopStats::lost) * flows.members;
    bool delivered = sum(&LoopStats::delivered) >= expected;
    bool acked = !peer.acks() || sum(&LoopStats::accepted) + sum(&LoopStats::errors) >= sent;
    return delivered && acked;
  });
  result.window_s = options.duration_s;
  std::vector<std::uint32_t> latencies;
  for (auto& l : loops) {
    auto& s = l->stats();
    latencies.insert(latencies.end(), s.latencies_us.begin(), s.latencies_us.end());
    if (result.first_error.empty()) result.first_error = s.first_error;
  }
  result.sent = sum(&LoopStats::sent);
  result.accepted = peer.acks() ? sum(&LoopStats::accepted) : result.sent;
  result.send_errors = sum(&LoopStats::errors);
  result.delivered = sum(&LoopStats::delivered);
  result.duplicates = sum(&LoopStats::duplicates);
  result.acked = result.delivered;  // receivers' acks are the client library's business
  result.given_up = sum(&LoopStats::lost);
  result.expected_deliveries = result.accepted * flows.members;
  result.missing =
      result.delivered < result.expected_deliveries ? result.expected_deliveries - result.delivered : 0;
  result.sent_per_s =
      static_cast<double>(peer.acks() ? sum(&LoopStats::accepted_in_window)
                                      : sum(&LoopStats::delivered_in_window) / flows.members) /
      options.duration_s;
  result.delivered_per_s = static_cast<double>(sum(&LoopStats::delivered_in_window)) / options.duration_s;
  std::sort(latencies.begin(), latencies.end());
  result.p50_ms = percentile(latencies, 0.50);
  result.p99_ms = percentile(latencies, 0.99);
  result.p999_ms = percentile(latencies, 0.999);
  result.max_ms = latencies.empty() ? 0 : latencies.back() / 1000.0;
  result.rss_after = loadgen::rss_bytes(peer.pid());
  return result;
}

}  // namespace

Result<std::vector<loadgen::PairsResult>> run_flows(Peer& peer, const FlowOptions& flows,
                                                    const loadgen::LoadOptions& options) {
  std::size_t threads = std::max<std::size_t>(1, options.client_threads);
  std::vector<std::unique_ptr<Loop>> loops;
  for (std::size_t t = 0; t < threads; ++t) loops.push_back(std::make_unique<Loop>(peer.acks(), nullptr));
  std::vector<std::unique_ptr<PeerClient>> clients;
  std::uint64_t rss_before = loadgen::rss_bytes(peer.pid());

  // Flow f: sender id 2^24 + f; its receivers listen on channel f * members + m (pairs:
  // channel f), or all on channel f when the system has groups and members > 1.
  const bool group = flows.members > 1 && peer.has_groups();
  for (std::size_t f = 0; f < flows.flows; ++f) {
    Loop& loop = *loops[f % threads];
    auto flow = std::make_unique<Flow>();
    flow->members = flows.members;
    flow->payload = std::string(as_chars(crypto::random_bytes(std::max(options.payload, kStampBytes))));
    std::vector<std::uint32_t> channels;
    for (std::size_t m = 0; m < flows.members; ++m)
      channels.push_back(static_cast<std::uint32_t>(group ? f : f * flows.members + m));
    if (group) {
      flow->targets = {static_cast<std::uint32_t>(f)};
    } else {
      flow->targets = channels;
    }
    for (std::size_t m = 0; m < flows.members; ++m) {
      ClientSpec spec;
      spec.name = "r" + std::to_string(f) + "-" + std::to_string(m);
      spec.listen = {channels[m]};
      spec.own_id = channels[m];
      auto client = peer.connect(spec);
      if (!client.ok()) {
        return make_error(
            client.error().code,
            "connecting receiver " + std::to_string(f * flows.members + m) + ": " + client.error().message);
      }
      auto sink = std::make_unique<Sink>();
      sink->flow = flow.get();
      loop.wire_sink(client->get(), sink.get());
      flow->sinks.push_back(std::move(sink));
      loop.add_client(client->get());
      clients.push_back(std::move(*client));
    }
    ClientSpec spec;
    spec.name = "s" + std::to_string(f);
    spec.own_id = static_cast<std::uint32_t>((1u << 24) + f);
    auto sender = peer.connect(spec);
    if (!sender.ok()) {
      return make_error(sender.error().code,
                        "connecting sender " + std::to_string(f) + ": " + sender.error().message);
    }
    flow->sender = sender->get();
    loop.add_client(sender->get());
    clients.push_back(std::move(*sender));
    loop.add_flow(std::move(flow));
  }
  for (auto& loop : loops) loop->wire();
  // Settle: subscriptions the protocol does not confirm reach the server before any send.
  {
    Phase idle;
    auto until = now_us() + 1'000'000;
    run_loops(loops, idle, [&] { return now_us() >= until; });
  }
  std::uint64_t rss_connected = loadgen::rss_bytes(peer.pid());

  std::vector<loadgen::PairsResult> results;
  auto first = run_phase(peer, loops, flows, options, options.rate);
  first.rss_before = rss_before;
  first.rss_connected = rss_connected;
  results.push_back(first);
  if (options.latency_at > 0 && options.rate == 0 && first.delivered_per_s > 0) {
    auto second = run_phase(peer, loops, flows, options, first.delivered_per_s * options.latency_at);
    second.rss_before = rss_before;
    second.rss_connected = rss_connected;
    results.push_back(second);
  }
  clients.clear();
  return results;
}

}  // namespace samizdat::peers
