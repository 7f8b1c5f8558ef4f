#include "transport/tcp/tcp_transport.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "transport/rate_limited_log.hpp"
#include "transport/replay_cache.hpp"
#include "transport/tcp/noise_handshake.hpp"
#include "transport/tcp/tcp_frame_stream.hpp"
#include "util/coro.hpp"
#include "util/log.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;

// A socket during its handshake, shared with the deadline timer that closes it.
struct Handshaking {
  explicit Handshaking(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  bool timed_out = false;
};

// Aborts the socket's pending operations when the deadline passes.
class Deadline {
 public:
  Deadline(const std::shared_ptr<Handshaking>& conn, std::chrono::milliseconds timeout)
      : timer_(conn->socket.get_executor()) {
    timer_.expires_after(timeout);
    timer_.async_wait([conn](std::error_code ec) {
      if (ec) return;
      conn->timed_out = true;
      // Cancel rather than close: the handshake code then fails and closes the socket
      // the same way it closes every rejected connection.
      std::error_code ignored;
      conn->socket.cancel(ignored);
    });
  }
  ~Deadline() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

Error io_error(const Handshaking& conn, std::string_view what, std::error_code ec) {
  if (conn.timed_out) return make_error(Errc::timeout, std::string(what) + ": the handshake took too long");
  if (ec == asio::error::eof || ec == asio::error::connection_reset) {
    return make_error(Errc::network, std::string(what) + ": the connection was closed");
  }
  return make_error(Errc::network, std::string(what) + ": " + ec.message());
}

asio::awaitable<Result<Bytes>> read_handshake_message(Handshaking& conn) {
  std::array<std::uint8_t, 2> prefix{};
  auto [ec, n] = co_await asio::async_read(conn.socket, asio::buffer(prefix), use_tuple);
  if (ec) co_return io_error(conn, "reading the handshake", ec);
  auto length = parse_handshake_length(prefix);
  if (!length.ok()) co_return std::move(length).error();
  Bytes message(*length);
  auto [ec2, n2] = co_await asio::async_read(conn.socket, asio::buffer(message), use_tuple);
  if (ec2) co_return io_error(conn, "reading the handshake", ec2);
  co_return message;
}

std::string describe(const tcp::endpoint& peer) {
  auto address = peer.address().to_string();
  if (peer.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(peer.port());
}

// ---------------------------------------------------------------------------------
class TcpListener final : public Listener {
 public:
  struct State {
    State(asio::any_io_executor executor, ListenOptions opts)
        : acceptor(std::move(executor)), options(std::move(opts)) {}
    tcp::acceptor acceptor;
    ListenOptions options;
    Endpoint endpoint;
    AcceptHandler handler;
    ListenerStats stats;
    ReplayCache replays;
    RateLimitedLog rejections;
  };

  explicit TcpListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~TcpListener() override { close(); }

  void start(AcceptHandler handler) override {
    state_->handler = std::move(handler);
    asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                   log_escape("tcp_transport: accept_loop"));
  }

  void close() override {
    auto state = state_;
    asio::post(state->acceptor.get_executor(), [state] {
      std::error_code ignored;
      state->acceptor.close(ignored);
    });
  }

  const Endpoint& local_endpoint() const override { return state_->endpoint; }
  const ListenerStats& stats() const override { return state_->stats; }

 private:
  static asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
    while (state->acceptor.is_open()) {
      auto executor =
          state->options.pick_executor ? state->options.pick_executor() : state->acceptor.get_executor();
      auto [ec, socket] = co_await state->acceptor.async_accept(executor, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) break;
        // Out of descriptors and the like: log, back off briefly, keep serving.
        state->rejections.warn("accept on " + state->endpoint.to_uri() + " failed: " + ec.message());
        asio::steady_timer pause(state->acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      asio::co_spawn(executor, handshake(state, std::move(socket)), log_escape("tcp_transport: handshake"));
    }
  }

  static asio::awaitable<void> handshake(std::shared_ptr<State> state, tcp::socket socket) {
    std::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto peer = socket.remote_endpoint(ignored);
    auto conn = std::make_shared<Handshaking>(std::move(socket));
    auto result = co_await respond(*state, conn);
    if (!result.ok()) {
      reject(*state, *conn, peer, result.error());
      co_return;
    }
    auto stream = std::make_unique<TcpFrameStream>(std::move(conn->socket), std::move(result->keys),
                                                   result->client_static, state->options.padding,
                                                   state->options.max_queued_bytes);
    state->stats.accepted.fetch_add(1, std::memory_order_relaxed);
    state->handler(std::move(stream));
  }

  static asio::awaitable<Result<ServerHandshakeResult>> respond(State& state,
                                                                std::shared_ptr<Handshaking> conn) {
    Deadline deadline(conn, state.options.handshake_timeout);
    auto message1 = co_await read_handshake_message(*conn);
    if (!message1.ok()) co_return std::move(message1).error();
    auto result = respond_to_client_hello(*message1, *state.options.server_static, state.endpoint.psk);
    if (!result.ok()) co_return std::move(result).error();
    // Only authenticated messages enter the cache, so junk cannot fill it.
    if (state.replays.check_and_insert(*message1)) {
      co_return make_error(Errc::replay,
                           "replayed handshake message (a prober resending a recorded handshake)");
    }
    auto [ec, n] = co_await asio::async_write(conn->socket, asio::buffer(result->reply), use_tuple);
    if (ec) co_return io_error(*conn, "sending the handshake reply", ec);
    co_return std::move(result);
  }

  // Everything that fails to authenticate ends the same way: nothing is ever sent back
  // and the connection is reset, whatever the bytes were (a prober learns nothing from
  // which check failed).
  static void reject(State& state, Handshaking& conn, const tcp::endpoint& peer, const Error& error) {
    state.stats.rejected.fetch_add(1, std::memory_order_relaxed);
    state.rejections.warn("rejected connection from " + describe(peer) + " on " + state.endpoint.to_uri() +
                          ": " + error.describe());
    std::error_code ignored;
    conn.socket.set_option(asio::socket_base::linger(true, 0), ignored);
    conn.socket.close(ignored);
  }

  std::shared_ptr<State> state_;
};

// ---------------------------------------------------------------------------------
class TcpTransport final : public Transport {
 public:
  std::string_view scheme() const override { return "tcp"; }

  asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                             const Endpoint& endpoint,
                                                             DialOptions options) override {
    auto conn = std::make_shared<Handshaking>(tcp::socket(executor));
    Deadline deadline(conn, options.timeout);
    // The resolver and connect are also bounded by the deadline: closing the socket
    // aborts the connect; the resolve of a numeric host does not block.
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                          tcp::resolver::numeric_service, use_tuple);
    if (rec) {
      co_return make_error(Errc::network, "cannot resolve '" + endpoint.host + "': " + rec.message());
    }
    if (conn->timed_out)
      co_return make_error(Errc::timeout, "resolving '" + endpoint.host + "' took too long");
    auto [cec, connected] = co_await asio::async_connect(conn->socket, results, use_tuple);
    if (cec) {
      if (conn->timed_out)
        co_return make_error(Errc::timeout, "connecting to " + endpoint.to_uri() + " timed out");
      co_return make_error(Errc::network, "cannot connect to " + endpoint.to_uri() + ": " + cec.message());
    }
    std::error_code ignored;
    conn->socket.set_option(tcp::no_delay(true), ignored);

    auto hello = start_client_hello(endpoint.server_static, endpoint.psk, options.client_static.get());
    if (!hello.ok()) co_return std::move(hello).error();
    auto [wec, written] = co_await asio::async_write(conn->socket, asio::buffer(hello->hello), use_tuple);
    if (wec) co_return io_error(*conn, "sending the handshake to " + endpoint.to_uri(), wec);
    auto reply = co_await read_handshake_message(*conn);
    if (!reply.ok()) {
      if (reply.error().code == Errc::network) {
        co_return make_error(Errc::network,
                             "the server at " + endpoint.to_uri() +
                                 " closed the connection during the handshake (wrong server key or "
                                 "PSK for this endpoint, or the connection is being interfered with)");
      }
      co_return std::move(reply).error();
    }
    auto keys = finish_client_handshake(*hello, *reply);
    if (!keys.ok()) co_return std::move(keys).error();
    if (conn->timed_out)
      co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
    std::unique_ptr<FrameStream> stream = std::make_unique<TcpFrameStream>(
        std::move(conn->socket), std::move(*keys), endpoint.server_static, options.padding, 1 << 20);
    co_return stream;
  }

  Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                           ListenOptions options) override {
    if (!options.server_static)
      return make_error(Errc::invalid_argument, "listen needs the server's static key");
    std::error_code ec;
    auto address = asio::ip::make_address(endpoint.host, ec);
    if (ec) {
      return make_error(Errc::invalid_argument,
                        "listen address '" + endpoint.host + "' is not an IP address (use e.g. 127.0.0.1)");
    }
    auto state = std::make_shared<TcpListener::State>(executor, std::move(options));
    tcp::endpoint bind_to(address, endpoint.port);
    auto fail = [&](std::string_view step) {
      return make_error(
          Errc::network,
          "cannot listen on " + endpoint.to_uri() + ": " + std::string(step) + ": " + ec.message() +
              (ec == asio::error::address_in_use ? " (another program uses this port: pick another)" : ""));
    };
    state->acceptor.open(bind_to.protocol(), ec);
    if (ec) return fail("open");
    state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    state->acceptor.bind(bind_to, ec);
    if (ec) return fail("bind");
    state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    state->endpoint = endpoint;
    state->endpoint.port = state->acceptor.local_endpoint(ec).port();
    state->endpoint.server_static = state->options.server_static->public_key;
    return std::unique_ptr<Listener>(std::make_unique<TcpListener>(std::move(state)));
  }
};

}  // namespace

std::shared_ptr<Transport> make_tcp_transport() { return std::make_shared<TcpTransport>(); }

}  // namespace samizdat::transport
