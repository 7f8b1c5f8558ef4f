#include "server/relay/relay.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <future>
#include <unordered_set>

#include "samizdat/session.pb.h"
#include "transport/deadline.hpp"
#include "transport/message_channel.hpp"
#include "transport/relay/relay_dial.hpp"
#include "util/coro.hpp"
#include "util/log.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::server {
namespace {

// One client and, once dialled, its upstream connection. Lives on the relay's thread.
struct Pair {
  std::unique_ptr<transport::FrameStream> client;
  std::unique_ptr<transport::FrameStream> upstream;
  int pumps = 0;
  void close() {
    if (client) client->close();
    if (upstream) upstream->close();
  }
};

Bytes failure_answer(std::string_view reason) {
  Bytes answer{transport::kRelayFailed};
  append(answer, as_bytes(reason));
  return answer;
}

}  // namespace

struct Relay::Impl : std::enable_shared_from_this<Relay::Impl> {
  RelayOptions options;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
  std::promise<void> finished;
  std::vector<std::unique_ptr<transport::Listener>> listeners;
  std::vector<transport::Endpoint> endpoints;
  std::unordered_set<std::shared_ptr<Pair>> pairs;
  RelayStats stats;
  bool stopped = false;

  void accept(std::unique_ptr<transport::FrameStream> client) {
    if (stopped || pairs.size() >= options.max_clients) {
      stats.refused.fetch_add(1, std::memory_order_relaxed);
      client->close();
      return;
    }
    auto pair = std::make_shared<Pair>();
    pair->client = std::move(client);
    pairs.insert(pair);
    stats.active.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(io.get_executor(), serve(shared_from_this(), pair), log_escape("relay: serve"));
  }

  void finish(const std::shared_ptr<Pair>& pair) {
    pair->close();
    if (pairs.erase(pair) != 0) stats.active.fetch_sub(1, std::memory_order_relaxed);
  }

  // Dials the upstream anonymously and opens a tunnel there; the error says why not.
  static asio::awaitable<Result<std::unique_ptr<transport::FrameStream>>> open_upstream(
      std::shared_ptr<Impl> self) {
    std::string failures;
    for (const auto& endpoint : self->options.upstream) {
      transport::DialOptions dial_options;
      dial_options.timeout = self->options.timeout;
      auto executor = self->io.get_executor();
      auto stream = co_await transport::dial(executor, endpoint, dial_options);
      if (!stream.ok()) {
        failures += (failures.empty() ? "" : "; ") + stream.error().message;
        continue;
      }
      auto opened = co_await request_tunnel(**stream, self->options.timeout);
      if (!opened.ok()) {
        (*stream)->close();
        failures += (failures.empty() ? "" : "; ") + endpoint.to_uri() + ": " + opened.error().message;
        continue;
      }
      co_return std::move(*stream);
    }
    co_return make_error(Errc::unavailable, "no upstream endpoint opened a tunnel (" + failures + ")");
  }

  static asio::awaitable<Status> request_tunnel(transport::FrameStream& upstream,
                                                std::chrono::milliseconds timeout) {
    transport::MessageChannel channel(upstream, 64 * 1024);
    wire::ClientMessage request;
    request.set_request_id(1);
    request.mutable_open_tunnel();
    Bytes serialized = wire::serialize_message(request);
    auto sent = channel.send_message(serialized);
    if (!sent.ok()) co_return sent;
    transport::Deadline deadline(upstream, transport::deadline_after(timeout));
    auto reply_bytes = co_await channel.read_message();
    if (!reply_bytes.ok()) {
      if (deadline.fired())
        co_return make_error(Errc::timeout, "the server did not answer OpenTunnel in time");
      co_return std::move(reply_bytes).error();
    }
    auto reply = wire::parse_message<wire::ServerMessage>(*reply_bytes, 64 * 1024, "OpenTunnel reply");
    if (!reply.ok()) co_return std::move(reply).error();
    if (reply->has_error()) {
      co_return make_error(Errc::unavailable, "the server refused the tunnel: " + reply->error().message());
    }
    if (!reply->has_tunnel_opened()) co_return make_error(Errc::protocol, "unexpected reply to OpenTunnel");
    co_return Status{};
  }

  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, std::shared_ptr<Pair> pair) {
    auto& client = *pair->client;
    Result<Bytes> request = make_error(Errc::timeout, "");
    {
      transport::Deadline deadline(client, transport::deadline_after(self->options.timeout));
      request = co_await client.read_frame();
    }
    if (!request.ok() || !equal_constant_time(*request, as_bytes(transport::kRelayConnectRequest))) {
      // Authenticated with our PSK but not a relay client: closed like junk.
      self->stats.refused.fetch_add(1, std::memory_order_relaxed);
      self->finish(pair);
      co_return;
    }
    auto upstream = co_await open_upstream(self);
    if (!upstream.ok()) {
      spdlog::warn("relay: cannot serve a client: {}", upstream.error().message);
      self->stats.refused.fetch_add(1, std::memory_order_relaxed);
      auto answer = failure_answer("the relay cannot reach its network now; try again later");
      auto written = co_await client.write_frame(answer);
      (void)written;
      self->finish(pair);
      co_return;
    }
    pair->upstream = std::move(*upstream);
    if (self->stopped || !client.is_open()) {
      self->finish(pair);
      co_return;
    }
    Bytes connected{transport::kRelayConnected};
    auto sent = client.send_frame(connected);
    if (!sent.ok()) {
      self->finish(pair);
      co_return;
    }
    self->stats.tunnels.fetch_add(1, std::memory_order_relaxed);
    pair->pumps = 2;
    asio::co_spawn(self->io.get_executor(), pump(self, pair, true), log_escape("relay: pump"));
    co_await pump(self, pair, false);
  }

  // Copies frame payloads one way until either side closes, then closes both.
  static asio::awaitable<void> pump(std::shared_ptr<Impl> self, std::shared_ptr<Pair> pair, bool upward) {
    auto& from = upward ? *pair->client : *pair->upstream;
    auto& to = upward ? *pair->upstream : *pair->client;
    while (from.is_open() && to.is_open()) {
      auto payload = co_await from.read_frame();
      if (!payload.ok()) break;
      if (self->options.observe) self->options.observe(*payload);
      self->stats.forwarded_bytes.fetch_add(payload->size(), std::memory_order_relaxed);
      // Waiting for the write keeps at most one frame per direction in the relay, so a
      // slow side slows the other instead of filling memory.
      auto written = co_await to.write_frame(*payload);
      if (!written.ok()) break;
    }
    if (--pair->pumps == 0) {
      self->finish(pair);
    } else {
      pair->close();
    }
  }
};

Result<std::unique_ptr<Relay>> Relay::start(RelayOptions options) {
  if (!options.noise_static)
    return make_error(Errc::invalid_argument, "the relay needs its Noise static key");
  if (options.listen.empty())
    return make_error(Errc::invalid_argument, "the relay needs at least one --listen endpoint");
  if (options.upstream.empty()) {
    return make_error(Errc::invalid_argument,
                      "the relay needs the network's endpoints (--upstream BOOTSTRAP)");
  }
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  Impl* raw = impl.get();
  for (const auto& endpoint : impl->options.listen) {
    transport::ListenOptions listen_options;
    listen_options.server_static = impl->options.noise_static;
    listen_options.handshake_timeout = impl->options.timeout;
    listen_options.tls_certificate = impl->options.tls_certificate;
    listen_options.tls_private_key = impl->options.tls_private_key;
    listen_options.cover_site = impl->options.cover_site;
    auto listener = transport::listen(impl->io.get_executor(), endpoint, std::move(listen_options));
    if (!listener.ok()) return std::move(listener).error();
    impl->endpoints.push_back((*listener)->local_endpoint());
    impl->listeners.push_back(std::move(*listener));
  }
  for (auto& listener : impl->listeners) {
    listener->start(
        [raw](std::unique_ptr<transport::FrameStream> stream) { raw->accept(std::move(stream)); });
  }
  impl->thread = std::thread([raw] {
    raw->io.run();
    raw->finished.set_value();
  });
  for (const auto& endpoint : impl->endpoints) spdlog::info("relay listening on {}", endpoint.to_uri());
  return std::unique_ptr<Relay>(new Relay(std::move(impl)));
}

Relay::~Relay() { stop(); }

const std::vector<transport::Endpoint>& Relay::endpoints() const { return impl_->endpoints; }
const RelayStats& Relay::stats() const { return impl_->stats; }

void Relay::wait_for_signal() {
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([](std::error_code, int) {});
  io.run();
  spdlog::info("relay: shutting down");
  stop();
}

void Relay::stop() {
  auto& impl = *impl_;
  if (!impl.thread.joinable()) return;
  std::promise<void> closed;
  auto closed_future = closed.get_future();
  asio::post(impl.io, [&impl, &closed] {
    impl.stopped = true;
    for (auto& listener : impl.listeners) listener->close();
    auto pairs = impl.pairs;
    for (const auto& pair : pairs) pair->close();
    closed.set_value();
  });
  closed_future.wait();
  impl.work.reset();
  if (impl.finished.get_future().wait_for(std::chrono::seconds(3)) != std::future_status::ready)
    impl.io.stop();
  impl.thread.join();
  impl.listeners.clear();
}

}  // namespace samizdat::server
