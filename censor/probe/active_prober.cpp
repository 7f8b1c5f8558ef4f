#include "censor/probe/active_prober.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>

#include "censor/dpi/tls_client_hello.hpp"
#include "censor/sys/netns.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace samizdat::censor {
namespace {

using Clock = std::chrono::steady_clock;

ProbeReaction send_probe(const std::string& name, const std::string& server, std::uint16_t port,
                         const Bytes& payload, double read_timeout_s) {
  ProbeReaction reaction;
  reaction.probe = name;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(static_cast<long>(read_timeout_s * 1000));
  auto finish = [&](ProbeEnd end) {
    reaction.end = end;
    reaction.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return reaction;
  };
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return finish(ProbeEnd::refused);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, server.c_str(), &address.sin_addr);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  auto left_ms = [&] {
    return static_cast<int>(std::max<long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  };
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return finish(ProbeEnd::refused);
  }
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, left_ms()) != 1) {
    ::close(fd);
    return finish(ProbeEnd::timeout);
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    ::close(fd);
    return finish(ProbeEnd::refused);
  }
  // The probe goes out as one write (one packet for these sizes), as the GFW sends it.
  ssize_t sent = ::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL);
  reaction.sent = sent > 0 ? static_cast<std::size_t>(sent) : 0;
  Bytes answer;
  ProbeEnd end = ProbeEnd::timeout;
  while (true) {
    pollfd r{fd, POLLIN, 0};
    int ready = ::poll(&r, 1, left_ms());
    if (ready != 1) break;
    std::uint8_t chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      if (answer.size() < 65536) answer.insert(answer.end(), chunk, chunk + n);
      reaction.received += static_cast<std::size_t>(n);
      continue;
    }
    end = (n == 0) ? ProbeEnd::closed : (errno == ECONNRESET ? ProbeEnd::reset : ProbeEnd::closed);
    break;
  }
  ::close(fd);
  reaction.first_bytes_hex =
      hex_encode(ByteView(answer).subspan(0, std::min<std::size_t>(answer.size(), 16)));
  return finish(end);
}

Bytes random_bytes_of(std::size_t n) {
  Bytes out(n);
  randombytes_buf(out.data(), out.size());
  return out;
}

// What a reaction "looks like" for comparisons: ending, and whether anything came back.
std::string shape(const ProbeReaction& r) {
  return to_string(r.end) + (r.received > 0 ? "+data(" + std::to_string(r.received) + ")" : "");
}

}  // namespace

std::string to_string(ProbeEnd end) {
  switch (end) {
    case ProbeEnd::refused:
      return "refused";
    case ProbeEnd::reset:
      return "reset";
    case ProbeEnd::closed:
      return "closed";
    case ProbeEnd::timeout:
      return "timeout";
    case ProbeEnd::open:
      return "open";
  }
  return "unknown";
}

Bytes change_one_byte(const Bytes& payload) {
  Bytes out = payload;
  if (out.empty()) return out;
  // Flip the top bit of the first byte that is neither '\n' nor '\n'|0x80, so a line-based
  // random service sees the same number of lines in both replays.
  for (auto& b : out) {
    if (b != 0x0a && b != 0x8a) {
      b ^= 0x80;
      return out;
    }
  }
  return out;
}

ProbeDecision decide(const std::vector<ProbeReaction>& reactions, const ProberPolicy& policy) {
  ProbeDecision d;
  const ProbeReaction* replay = nullptr;
  const ProbeReaction* changed = nullptr;
  std::vector<const ProbeReaction*> randoms;
  for (const auto& r : reactions) {
    if (r.probe == "replay") replay = &r;
    if (r.probe == "replay-changed") changed = &r;
    if (r.probe.rfind("random-", 0) == 0) randoms.push_back(&r);
    if (r.probe == "http" && r.received > 0 &&
        r.first_bytes_hex.rfind(hex_encode(as_bytes("HTTP/")), 0) == 0) {
      d.answers_http = true;
    }
    // A TLS record header: handshake (0x16) or alert (0x15), version 3.x.
    if (r.probe == "tls" && r.received >= 3 &&
        (r.first_bytes_hex.rfind("1603", 0) == 0 || r.first_bytes_hex.rfind("1503", 0) == 0)) {
      d.answers_tls = true;
    }
  }
  if (replay != nullptr && changed != nullptr && replay->end != ProbeEnd::refused) {
    // A random service treats both replays alike (both are the same kind of junk to it);
    // a server that authenticates nothing but decrypts the replay answers it differently.
    if (shape(*replay) != shape(*changed) && replay->received > 0) {
      d.replay_accepted = true;
      d.reasons.push_back("answered the replayed first packet (" + shape(*replay) +
                          ") unlike the same packet with one byte changed (" + shape(*changed) + ")");
    }
  }
  // Length threshold: every probe shorter than some L waits (timeout) and every probe of
  // length >= L is closed or reset: a server reading a fixed-size header (Frolov et al. 2020).
  std::sort(randoms.begin(), randoms.end(), [](auto* a, auto* b) { return a->sent < b->sent; });
  if (randoms.size() >= 3) {
    std::size_t first_close = randoms.size();
    for (std::size_t i = 0; i < randoms.size(); ++i) {
      if (randoms[i]->end == ProbeEnd::closed || randoms[i]->end == ProbeEnd::reset) {
        first_close = i;
        break;
      }
    }
    bool shorter_wait = first_close > 0 && first_close < randoms.size();
    for (std::size_t i = 0; i < first_close && shorter_wait; ++i) {
      shorter_wait = randoms[i]->end == ProbeEnd::timeout && randoms[i]->received == 0;
    }
    bool longer_close = shorter_wait;
    for (std::size_t i = first_close; i < randoms.size() && longer_close; ++i) {
      longer_close = (randoms[i]->end == ProbeEnd::closed || randoms[i]->end == ProbeEnd::reset) &&
                     randoms[i]->received == 0;
    }
    if (shorter_wait && longer_close) {
      d.length_threshold = true;
      d.reasons.push_back("waits on random probes shorter than " +
                          std::to_string(randoms[first_close]->sent) +
                          " bytes and closes silently on longer ones");
    }
  }
  if (!d.answers_http && !d.answers_tls)
    d.reasons.push_back("answers neither HTTP nor TLS like a website would");
  d.block =
      (policy.block_on_replay && d.replay_accepted) || (policy.block_on_threshold && d.length_threshold);
  return d;
}

ProbeResult ActiveProber::probe_now(const ProbeRequest& request, const ProberPolicy& policy) {
  ProbeResult result;
  result.server = request.server;
  result.port = request.port;
  std::vector<std::pair<std::string, Bytes>> probes;
  if (!request.first_payload.empty()) {
    probes.emplace_back("replay", request.first_payload);
    probes.emplace_back("replay-changed", change_one_byte(request.first_payload));
  }
  for (auto length : policy.random_lengths)
    probes.emplace_back("random-" + std::to_string(length), random_bytes_of(length));
  probes.emplace_back("http", to_bytes("GET / HTTP/1.1\r\nHost: " + request.server +
                                       "\r\nUser-Agent: Mozilla/5.0\r\n"
                                       "Accept: */*\r\nConnection: close\r\n\r\n"));
  probes.emplace_back("tls", build_client_hello(policy.claimed_sni));
  // All probes at once: the whole set costs one read timeout, not one per probe.
  std::vector<std::future<ProbeReaction>> running;
  for (auto& [name, payload] : probes) {
    running.push_back(std::async(std::launch::async, send_probe, name, request.server, request.port, payload,
                                 policy.read_timeout_s));
  }
  for (auto& f : running) result.reactions.push_back(f.get());
  result.decision = decide(result.reactions, policy);
  return result;
}

Result<std::unique_ptr<ActiveProber>> ActiveProber::start(const std::string& censor_ns, ProberPolicy policy,
                                                          Firewall* firewall, OnResult on_result) {
  std::unique_ptr<ActiveProber> prober(new ActiveProber());
  prober->censor_ns_ = censor_ns;
  prober->policy_ = std::move(policy);
  prober->firewall_ = firewall;
  prober->on_result_ = std::move(on_result);
  std::promise<Status> entered;
  auto entered_future = entered.get_future();
  ActiveProber* self = prober.get();
  prober->thread_ = std::thread([self, &entered] {
    // std::async threads are new threads: they inherit this thread's namespace at creation.
    auto status = enter_netns(self->censor_ns_);
    entered.set_value(status);
    if (status) self->loop();
  });
  auto status = entered_future.get();
  if (!status) {
    prober->thread_.join();
    return std::move(status).error();
  }
  return prober;
}

ActiveProber::~ActiveProber() { stop(); }

void ActiveProber::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ActiveProber::request(const ProbeRequest& request) {
  {
    std::lock_guard lock(mutex_);
    if (!seen_.insert(request.server + ":" + std::to_string(request.port)).second) return;
    queue_.push_back(request);
  }
  wake_.notify_all();
}

std::vector<ProbeResult> ActiveProber::results() {
  std::lock_guard lock(mutex_);
  return results_;
}

void ActiveProber::loop() {
  const auto start = Clock::now();
  while (true) {
    ProbeRequest next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = queue_.front();
      queue_.pop_front();
      if (policy_.delay_s > 0) {
        const auto until =
            Clock::now() + std::chrono::milliseconds(static_cast<long>(policy_.delay_s * 1000));
        if (wake_.wait_until(lock, until, [&] { return stopping_; })) return;
      }
    }
    ProbeResult result = probe_now(next, policy_);
    result.t_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (result.decision.block) {
      auto status = firewall_->block_prefixes(Mechanism::prober, policy_.action, {result.server});
      if (!status) spdlog::warn("prober could not block {}: {}", result.server, status.error().message);
    }
    if (on_result_) on_result_(result);
    std::lock_guard lock(mutex_);
    results_.push_back(std::move(result));
  }
}

}  // namespace samizdat::censor
