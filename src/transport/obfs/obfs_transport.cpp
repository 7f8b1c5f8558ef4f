#include "transport/obfs/obfs_transport.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "crypto/secret.hpp"
#include "transport/obfs/obfs_handshake.hpp"
#include "transport/rate_limited_log.hpp"
#include "transport/replay_cache.hpp"
#include "transport/tcp/tcp_frame_stream.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;
using obfs::ObfsSecrets;

struct Handshaking {
  explicit Handshaking(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  bool timed_out = false;
};

// Cancels the socket's pending operations when the deadline passes.
class Deadline {
 public:
  Deadline(const std::shared_ptr<Handshaking>& conn, std::chrono::milliseconds timeout)
      : timer_(conn->socket.get_executor()) {
    timer_.expires_after(timeout);
    timer_.async_wait([conn](std::error_code ec) {
      if (ec) return;
      conn->timed_out = true;
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

std::string describe(const tcp::endpoint& peer) {
  auto address = peer.address().to_string();
  if (peer.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(peer.port());
}

std::uint64_t random_word() {
  std::uint64_t word = 0;
  crypto::fill_random(MutableByteView(reinterpret_cast<std::uint8_t*>(&word), sizeof(word)));
  return word;
}

// ---------------------------------------------------------------------------------
class ObfsListener final : public Listener {
 public:
  struct State {
    State(asio::any_io_executor executor, ListenOptions opts)
        : acceptor(std::move(executor)), options(std::move(opts)) {}
    tcp::acceptor acceptor;
    ListenOptions options;
    Endpoint endpoint;
    ObfsSecrets secrets;
    obfs::JunkPolicy junk;
    wire::PaddingPolicy padding;
    AcceptHandler handler;
    ListenerStats stats;
    ReplayCache replays;
    RateLimitedLog rejections;
  };

  explicit ObfsListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~ObfsListener() override { close(); }

  void start(AcceptHandler handler) override {
    state_->handler = std::move(handler);
    asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                   log_escape("obfs_transport: accept_loop"));
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
        state->rejections.warn("accept on " + state->endpoint.to_uri() + " failed: " + ec.message());
        asio::steady_timer pause(state->acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      asio::co_spawn(executor, handshake(state, std::move(socket)), log_escape("obfs_transport: handshake"));
    }
  }

  static asio::awaitable<void> handshake(std::shared_ptr<State> state, tcp::socket socket) {
    std::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto peer = socket.remote_endpoint(ignored);
    auto conn = std::make_shared<Handshaking>(std::move(socket));
    // One deadline for the whole handshake, junk or not, drawn per connection.
    auto timeout = state->junk.deadline(random_word());
    Deadline deadline(conn, timeout);
    obfs::ServerHandshake hs(state->secrets, *state->options.server_static, state->endpoint.psk,
                             unix_millis());
    Status outcome = co_await respond(*state, *conn, hs);
    if (!outcome.ok()) {
      std::size_t consumed = hs.consumed();
      co_await treat_as_junk(*state, *conn, consumed);
      reject(*state, *conn, peer, outcome.error());
      co_return;
    }
    auto keys = hs.take_keys();
    if (!keys.ok()) {
      reject(*state, *conn, peer, keys.error());
      co_return;
    }
    auto stream =
        std::make_unique<TcpFrameStream>(std::move(conn->socket), std::move(*keys), hs.client_static(),
                                         state->padding, state->options.max_queued_bytes);
    state->stats.accepted.fetch_add(1, std::memory_order_relaxed);
    state->handler(std::move(stream));
  }

  // Reads the client's two packets and answers. Any failure leaves the connection to
  // treat_as_junk, whatever the reason, so a prober cannot tell the checks apart.
  static asio::awaitable<Status> respond(State& state, Handshaking& conn, obfs::ServerHandshake& hs) {
    // Holds the largest step: a whole popcount-shaped first record, (39 + 2 + 1200) x 4/3.
    std::array<std::uint8_t, 2048> buffer{};
    while (!hs.done()) {
      std::size_t want = hs.wanted();
      if (want > buffer.size() || hs.consumed() + want > state.junk.threshold_bytes) {
        co_return make_error(Errc::malformed, "handshake larger than any client's");
      }
      auto [ec, n] = co_await asio::async_read(conn.socket, asio::buffer(buffer.data(), want), use_tuple);
      if (ec) co_return io_error(conn, "reading the handshake", ec);
      auto fed = hs.feed(ByteView(buffer.data(), want));
      if (!fed.ok()) co_return fed;
    }
    // Only fully authenticated handshakes (first record + confirmation) enter the cache,
    // so neither junk nor a replayed first packet on its own can fill or poison it.
    if (state.replays.check_and_insert(hs.replay_key())) {
      co_return make_error(Errc::replay, "replayed handshake (a prober resending a recorded one)");
    }
    auto reply = hs.reply();
    auto [ec, n] =
        co_await asio::async_write(conn.socket, asio::buffer(reply.data(), reply.size()), use_tuple);
    if (ec) co_return io_error(conn, "sending the handshake reply", ec);
    co_return Status{};
  }

  // Keeps reading (and discarding) until the endpoint's junk threshold or the
  // connection's deadline or the peer's close, whichever comes first.
  static asio::awaitable<void> treat_as_junk(State& state, Handshaking& conn, std::size_t already) {
    std::array<std::uint8_t, 1024> sink{};
    while (already < state.junk.threshold_bytes && !conn.timed_out && conn.socket.is_open()) {
      std::size_t room = std::min(sink.size(), state.junk.threshold_bytes - already);
      auto [ec, n] = co_await conn.socket.async_read_some(asio::buffer(sink.data(), room), use_tuple);
      if (ec) break;
      already += n;
    }
  }

  // Nothing is ever sent back and the connection is reset, whatever the bytes were.
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
class ObfsTransport final : public Transport {
 public:
  std::string_view scheme() const override { return "obfs"; }

  asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                             const Endpoint& endpoint,
                                                             DialOptions options) override {
    auto secrets = obfs::derive_obfs_secrets(endpoint);
    if (!secrets.ok()) co_return std::move(secrets).error();
    auto conn = std::make_shared<Handshaking>(tcp::socket(executor));
    Deadline deadline(conn, options.timeout);
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                          tcp::resolver::numeric_service, use_tuple);
    if (rec) co_return make_error(Errc::network, "cannot resolve '" + endpoint.host + "': " + rec.message());
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

    auto hs = obfs::ClientHandshake::start(*secrets, endpoint.server_static, endpoint.psk,
                                           options.client_static.get(), unix_millis());
    if (!hs.ok()) co_return std::move(hs).error();
    // Two writes, so the first packet (what a censor records and replays) does not carry
    // the confirmation the server waits for.
    auto first = hs->first_packet();
    auto [wec, written] =
        co_await asio::async_write(conn->socket, asio::buffer(first.data(), first.size()), use_tuple);
    if (wec) co_return io_error(*conn, "sending the handshake to " + endpoint.to_uri(), wec);
    auto second = hs->second_packet();
    auto [wec2, written2] =
        co_await asio::async_write(conn->socket, asio::buffer(second.data(), second.size()), use_tuple);
    if (wec2) co_return io_error(*conn, "sending the handshake to " + endpoint.to_uri(), wec2);

    std::array<std::uint8_t, 2048> buffer{};
    while (!hs->done()) {
      std::size_t want = hs->wanted();
      if (want == 0 || want > buffer.size())
        co_return make_error(Errc::protocol, "obfs reply larger than allowed");
      auto [ec, n] = co_await asio::async_read(conn->socket, asio::buffer(buffer.data(), want), use_tuple);
      if (ec) {
        if (conn->timed_out)
          co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
        co_return make_error(
            Errc::network,
            "the server at " + endpoint.to_uri() +
                " closed the connection during the handshake (wrong server key, PSK or shaping "
                "mode for this endpoint, a clock off by more than 5 minutes, or the connection is "
                "being interfered with)");
      }
      auto fed = hs->feed(ByteView(buffer.data(), want));
      if (!fed.ok()) co_return std::move(fed).error();
    }
    auto keys = hs->take_keys();
    if (!keys.ok()) co_return std::move(keys).error();
    if (conn->timed_out)
      co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
    auto padding =
        options.padding.kind() == wire::PaddingPolicy::Kind::none ? secrets->frame_padding : options.padding;
    std::unique_ptr<FrameStream> stream = std::make_unique<TcpFrameStream>(
        std::move(conn->socket), std::move(*keys), endpoint.server_static, padding, 1 << 20);
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
    auto state = std::make_shared<ObfsListener::State>(executor, std::move(options));
    state->endpoint = endpoint;
    state->endpoint.server_static = state->options.server_static->public_key;
    state->secrets = SZ_TRY(obfs::derive_obfs_secrets(state->endpoint));
    state->junk = state->secrets.junk_policy(state->options.handshake_timeout);
    state->padding = state->options.padding.kind() == wire::PaddingPolicy::Kind::none
                         ? state->secrets.frame_padding
                         : state->options.padding;
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
    state->endpoint.port = state->acceptor.local_endpoint(ec).port();
    return std::unique_ptr<Listener>(std::make_unique<ObfsListener>(std::move(state)));
  }
};

}  // namespace

std::shared_ptr<Transport> make_obfs_transport() { return std::make_shared<ObfsTransport>(); }

}  // namespace samizdat::transport
