#include "client/server_connection.hpp"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <optional>
#include <unordered_map>

#include "crypto/secret.hpp"
#include "transport/message_channel.hpp"
#include "transport/transport.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"
#include "wire/error_code.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

struct Pending {
  explicit Pending(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  std::optional<Result<wire::ServerMessage>> reply;
  std::int64_t sent_us = 0;
  bool probe = false;  // a padded goodput probe: slow on a throttled path by design
};

}  // namespace

struct ServerConnection::State {
  State(std::unique_ptr<transport::FrameStream> s, const transport::Endpoint& ep)
      : stream(std::move(s)),
        channel(*stream, kMaxServerMessageSize),
        push_timer(stream->get_executor()),
        endpoint(ep),
        endpoint_name(ep.to_uri()) {}

  std::unique_ptr<transport::FrameStream> stream;
  transport::MessageChannel channel;
  std::uint64_t next_request_id = 1;
  std::unordered_map<std::uint64_t, std::shared_ptr<Pending>> pending;
  std::deque<wire::Envelope> pushed;
  asio::steady_timer push_timer;
  bool push_waiting = false;
  std::optional<Error> failure;  // set once the connection is gone
  transport::Endpoint endpoint;
  std::string endpoint_name;
  std::int64_t last_received_us = monotonic_micros();
  bool keepalive_started = false;
  std::optional<wire::MapOffer> map_offer;
  bool closed_by_us = false;
  reach::FailureClass loss_class = reach::FailureClass::none;

  void fail(Error error, std::optional<reach::FailureClass> cls = std::nullopt) {
    if (failure) return;
    loss_class = cls ? *cls : reach::classify_connection_loss(error);
    failure = std::move(error);
    stream->close();
    for (auto& [id, p] : pending) {
      p->reply = *failure;
      p->timer.cancel();
    }
    pending.clear();
    push_timer.cancel();
  }
};

namespace {

asio::awaitable<void> read_loop(std::shared_ptr<ServerConnection::State> state) {
  while (!state->failure) {
    auto message = co_await state->channel.read_message();
    if (!message.ok()) {
      state->fail(make_error(Errc::network, "the connection to the server " + state->endpoint_name +
                                                " was lost (" + message.error().message + ")"));
      break;
    }
    state->last_received_us = monotonic_micros();
    auto parsed = wire::parse_message<wire::ServerMessage>(*message, kMaxServerMessageSize, "server message");
    if (!parsed.ok()) {
      state->fail(make_error(Errc::protocol, "the server sent a message this client cannot read (" +
                                                 parsed.error().message + "): is samizdat up to date?"));
      break;
    }
    if (parsed->request_id() == 0) {
      if (parsed->has_envelope_push()) {
        for (auto& envelope : *parsed->mutable_envelope_push()->mutable_envelopes()) {
          state->pushed.push_back(std::move(envelope));
        }
        state->push_timer.cancel();
      }
      if (parsed->has_map_offer()) state->map_offer = parsed->map_offer();
      continue;  // other unsolicited messages are for newer clients
    }
    auto it = state->pending.find(parsed->request_id());
    if (it == state->pending.end()) continue;  // a reply that came after its caller gave up
    auto pending = std::move(it->second);
    state->pending.erase(it);
    pending->reply = std::move(*parsed);
    pending->timer.cancel();
  }
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<ServerConnection>>> ServerConnection::connect(
    asio::any_io_executor executor, const transport::Endpoint& endpoint,
    std::shared_ptr<const crypto::X25519KeyPair> device_key, std::chrono::milliseconds timeout) {
  transport::DialOptions options;
  options.client_static = std::move(device_key);
  options.timeout = timeout;
  auto stream = co_await transport::dial(executor, endpoint, std::move(options));
  if (!stream.ok()) {
    Error error = std::move(stream).error();
    error.message = "cannot reach the server at " + endpoint.to_uri() + ": " + error.message +
                    " (is it running? check the network, then retry)";
    co_return error;
  }
  co_return adopt(std::move(*stream), endpoint);
}

ServerConnection::~ServerConnection() { close(); }

bool ServerConnection::is_open() const { return !state_->failure; }

void ServerConnection::close() {
  if (!state_->failure) state_->closed_by_us = true;
  state_->fail(make_error(Errc::unavailable, "the connection to the server was closed"));
}

namespace {

// Sends one request (padded with `padding` bytes when > 0) and waits for its reply.
asio::awaitable<Result<wire::ServerMessage>> exchange(std::shared_ptr<ServerConnection::State> state,
                                                      wire::ClientMessage request,
                                                      std::chrono::milliseconds timeout,
                                                      std::size_t padding) {
  if (state->failure) co_return *state->failure;
  std::uint64_t id = state->next_request_id++;
  request.set_request_id(id);
  auto pending = std::make_shared<Pending>(state->stream->get_executor());
  pending->timer.expires_after(timeout);
  pending->sent_us = monotonic_micros();
  pending->probe = padding > 0;
  state->pending.emplace(id, pending);
  if (padding > 0) {
    // A goodput probe: the ping carries `padding` random bytes, incompressible whatever a
    // middlebox does.
    Bytes filler(padding);
    crypto::fill_random(filler);
    request.mutable_ping()->set_padding(filler.data(), filler.size());
  }
  Bytes bytes = wire::serialize_message(request);
  if (auto sent = state->channel.send_message(bytes); !sent.ok()) {
    state->pending.erase(id);
    co_return sent.error();
  }
  co_await pending->timer.async_wait(use_tuple);
  if (!pending->reply) {
    state->pending.erase(id);
    co_return make_error(Errc::timeout, "the server at " + state->endpoint_name + " did not answer within " +
                                            std::to_string(timeout.count()) + " ms");
  }
  auto reply = std::move(*pending->reply);
  if (reply.ok() && reply->has_error()) {
    co_return make_error(wire::errc_from_wire(reply->error().code()),
                         "the server refused: " + reply->error().message());
  }
  co_return reply;
}

asio::awaitable<void> pause(std::shared_ptr<ServerConnection::State> state, std::chrono::milliseconds delay) {
  asio::steady_timer timer(state->stream->get_executor(), delay);
  co_await timer.async_wait(use_tuple);
}

// Fails the connection when a request has gone unanswered for dead_after with nothing at
// all received since it left (a silent drop: no RST, no bytes).
asio::awaitable<void> watchdog_loop(std::shared_ptr<ServerConnection::State> state,
                                    KeepaliveOptions options) {
  const auto tick =
      std::max(std::chrono::milliseconds(20), std::min(options.dead_after / 5, options.interval));
  const std::int64_t dead_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options.dead_after).count();
  const std::int64_t probe_dead_us =
      dead_us + std::chrono::duration_cast<std::chrono::microseconds>(options.throttle.window).count();
  while (!state->failure) {
    co_await pause(state, tick);
    if (state->failure) break;
    std::int64_t now = monotonic_micros();
    bool probe_in_flight = false;
    for (const auto& [id, p] : state->pending) probe_in_flight = probe_in_flight || p->probe;
    for (const auto& [id, p] : state->pending) {
      // Requests queued behind a probe wait for it: give them the probe's allowance.
      std::int64_t limit = probe_in_flight ? probe_dead_us : dead_us;
      if (now - p->sent_us > limit && state->last_received_us < p->sent_us) {
        state->fail(
            make_error(Errc::timeout, "the server at " + state->endpoint_name + " stopped answering (" +
                                          std::to_string(options.dead_after.count()) +
                                          " ms without a byte; keepalive): the path is silently dropping"),
            reach::FailureClass::silent_drop);
        break;
      }
    }
  }
}

// Idle pings (RTT samples) and goodput probes; fails a throttled connection.
asio::awaitable<void> keepalive_loop(std::shared_ptr<ServerConnection::State> state,
                                     KeepaliveOptions options) {
  reach::ThrottleDetector detector(options.throttle);
  std::int64_t next_probe_us = monotonic_micros();
  const auto probe_timeout = options.throttle.window + options.dead_after;
  while (!state->failure) {
    co_await pause(state, options.interval);
    if (state->failure) break;
    std::int64_t now = monotonic_micros();
    wire::ClientMessage ping;
    ping.mutable_ping()->set_nonce(crypto::random_uniform(UINT32_MAX));
    // A small ping when idle: it is also the RTT sample the throttle test compares with.
    if (now - state->last_received_us >=
            std::chrono::duration_cast<std::chrono::microseconds>(options.interval).count() ||
        options.probe_bytes > 0) {
      std::int64_t sent = monotonic_micros();
      auto small = co_await exchange(state, ping, options.dead_after * 2, 0);
      if (!small.ok()) {
        if (small.error().code == Errc::timeout) {
          state->fail(make_error(Errc::timeout,
                                 "the server at " + state->endpoint_name +
                                     " did not answer a keepalive ping: the path is silently dropping"),
                      reach::FailureClass::silent_drop);
        }
        break;
      }
      detector.on_rtt(std::chrono::microseconds(monotonic_micros() - sent), monotonic_micros());
    }
    if (options.probe_bytes == 0 || monotonic_micros() < next_probe_us) continue;
    std::int64_t sent = monotonic_micros();
    auto probe = co_await exchange(state, ping, probe_timeout, options.probe_bytes);
    std::int64_t done = monotonic_micros();
    if (!probe.ok() && probe.error().code != Errc::timeout) break;  // the connection is gone
    detector.on_probe(options.probe_bytes, std::chrono::microseconds(done - sent), done);
    spdlog::debug("goodput probe to {}: {:.0f} kbit/s", state->endpoint_name,
                  detector.last_kbps().value_or(0));
    if (detector.throttled(done)) {
      state->fail(make_error(Errc::network,
                             "the connection to " + state->endpoint_name + " is throttled (goodput " +
                                 std::to_string(static_cast<int>(detector.last_kbps().value_or(0))) +
                                 " kbit/s for " + std::to_string(options.throttle.window.count() / 1000) +
                                 " s while pings are answered normally)"),
                  reach::FailureClass::throttled);
      break;
    }
    auto wait = detector.suspicious() ? options.suspicious_interval : options.probe_interval;
    next_probe_us = done + std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
  }
}

}  // namespace

asio::awaitable<Result<wire::ServerMessage>> ServerConnection::call(wire::ClientMessage request,
                                                                    std::chrono::milliseconds timeout) {
  auto state = state_;  // the connection may be destroyed while we wait
  co_return co_await exchange(state, std::move(request), timeout, 0);
}

std::unique_ptr<ServerConnection> ServerConnection::adopt(std::unique_ptr<transport::FrameStream> stream,
                                                          const transport::Endpoint& endpoint) {
  auto state = std::make_shared<State>(std::move(stream), endpoint);
  asio::co_spawn(state->stream->get_executor(), read_loop(state), log_escape("server_connection: read_loop"));
  return std::unique_ptr<ServerConnection>(new ServerConnection(std::move(state)));
}

void ServerConnection::start_keepalive(KeepaliveOptions options) {
  if (state_->keepalive_started || options.interval.count() <= 0 || state_->failure) return;
  state_->keepalive_started = true;
  auto executor = state_->stream->get_executor();
  asio::co_spawn(executor, watchdog_loop(state_, options), log_escape("server_connection: watchdog_loop"));
  asio::co_spawn(executor, keepalive_loop(state_, options), log_escape("server_connection: keepalive_loop"));
}

const transport::Endpoint& ServerConnection::endpoint() const { return state_->endpoint; }

std::optional<Error> ServerConnection::loss() const {
  if (state_->closed_by_us) return std::nullopt;
  return state_->failure;
}

std::optional<wire::MapOffer> ServerConnection::take_map_offer() {
  auto offer = std::move(state_->map_offer);
  state_->map_offer.reset();
  return offer;
}

reach::FailureClass ServerConnection::loss_class() const {
  return loss() ? state_->loss_class : reach::FailureClass::none;
}

asio::awaitable<Result<std::vector<wire::Envelope>>> ServerConnection::wait_for_push(
    std::chrono::milliseconds timeout) {
  auto state = state_;
  if (state->pushed.empty() && !state->failure && timeout.count() > 0) {
    state->push_timer.expires_after(timeout);
    co_await state->push_timer.async_wait(use_tuple);
  }
  if (state->pushed.empty() && state->failure) co_return *state->failure;
  std::vector<wire::Envelope> out(std::make_move_iterator(state->pushed.begin()),
                                  std::make_move_iterator(state->pushed.end()));
  state->pushed.clear();
  co_return out;
}

}  // namespace samizdat::client
