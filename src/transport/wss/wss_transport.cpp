#include "transport/wss/wss_transport.hpp"

#include <openssl/ssl.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <mutex>

#include "transport/https/cover_site.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/rate_limited_log.hpp"
#include "transport/replay_cache.hpp"
#include "transport/stream/noise_over_stream.hpp"
#include "transport/stream/stream_deadline.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "transport/wss/websocket_stream.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// How long a keep-alive connection may sit between cover-site requests (nginx's
// keepalive_timeout default is 75 s), and how many requests one connection may make.
constexpr std::chrono::milliseconds kKeepAliveTimeout{75'000};
constexpr int kMaxRequestsPerConnection = 100;
// ALPN of Chromium's WebSocket connections: HTTP/1.1 only (the upgrade needs it).
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// Closes a socket when the time limit passes (connect phase, before there is a ByteStream).
class SocketDeadline {
 public:
  SocketDeadline(tcp::socket& socket, std::chrono::milliseconds timeout)
      : timer_(socket.get_executor()), flags_(std::make_shared<Flags>()) {
    timer_.expires_after(timeout);
    timer_.async_wait([socket = &socket, flags = flags_](std::error_code ec) {
      if (ec || flags->done) return;
      flags->fired = true;
      std::error_code ignored;
      socket->close(ignored);
    });
  }
  ~SocketDeadline() {
    flags_->done = true;
    timer_.cancel();
  }
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;
  [[nodiscard]] bool fired() const { return flags_->fired; }

 private:
  struct Flags {
    bool fired = false;
    bool done = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<Flags> flags_;
};

// Reads until `buffer` holds a complete HTTP head; returns its length (the bytes after
// it stay in `buffer`). Errc::limit_exceeded past ws::kMaxHttpHead bytes.
asio::awaitable<Result<std::size_t>> read_http_head(ByteStream& stream, Bytes& buffer) {
  for (;;) {
    auto end = ws::find_head_end(buffer);
    if (!end.ok()) co_return std::move(end).error();
    if (end->has_value()) co_return **end;
    const std::size_t old = buffer.size();
    buffer.resize(old + 2048);
    std::span<std::uint8_t> space(buffer.data() + old, 2048);
    auto n = co_await stream.read_some(space);
    buffer.resize(old + (n.ok() ? *n : 0));
    if (!n.ok()) co_return std::move(n).error();
  }
}

std::string host_with_port(const std::string& host, std::uint16_t port, std::uint16_t default_port) {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port) out += ":" + std::to_string(port);
  return out;
}

Error phase_error(bool timed_out, const std::string& what, const Error& error) {
  if (timed_out) return make_error(Errc::timeout, what + " timed out");
  return make_error(error.code, what + ": " + error.message);
}

// ---------------------------------------------------------------------------------
class WssListener final : public Listener {
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
    std::shared_ptr<asio::ssl::context> tls;  // null for ws://
    std::shared_ptr<const https::CoverSite> cover;
  };

  explicit WssListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~WssListener() override { close(); }

  void start(AcceptHandler handler) override {
    state_->handler = std::move(handler);
    asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                   log_escape("wss_transport: accept_loop"));
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
      asio::co_spawn(executor, serve(state, std::move(socket)), log_escape("wss_transport: serve"));
    }
  }

  static void reject(State& state, const std::string& peer, const Error& error) {
    state.stats.rejected.fetch_add(1, std::memory_order_relaxed);
    state.rejections.warn("rejected connection from " + peer + " on " + state.endpoint.to_uri() + ": " +
                          error.describe());
  }

  // One connection: TLS, then HTTP requests until one upgrades on the secret path (then
  // the Noise handshake inside the WebSocket) or the visitor is done with the cover site.
  static asio::awaitable<void> serve(std::shared_ptr<State> state, tcp::socket socket) {
    std::unique_ptr<ByteStream> stream;
    if (state->tls) {
      auto tls = std::make_unique<https::TlsByteStream>(std::move(socket), state->tls);
      Status handshake;
      bool timed_out = false;
      {
        StreamDeadline deadline(*tls, state->options.handshake_timeout);
        handshake = co_await tls->server_handshake();
        timed_out = deadline.fired();
      }
      if (!handshake.ok()) {
        // OpenSSL has answered as any TLS server would (an alert, or nothing for junk).
        std::string peer = tls->peer_description();
        tls->close();
        reject(*state, peer, phase_error(timed_out, "TLS handshake", handshake.error()));
        co_return;
      }
      stream = std::move(tls);
    } else {
      stream = std::make_unique<TcpByteStream>(std::move(socket));
    }
    const std::string peer = stream->peer_description();

    Bytes buffer;
    for (int request = 0; request < kMaxRequestsPerConnection; ++request) {
      Result<std::size_t> head_length = std::size_t{0};
      bool timed_out = false;
      {
        StreamDeadline deadline(*stream, request == 0 ? state->options.handshake_timeout : kKeepAliveTimeout);
        head_length = co_await read_http_head(*stream, buffer);
        timed_out = deadline.fired();
      }
      if (!head_length.ok()) {
        // Too long a head: nginx answers 400 and closes; a silent or closed peer is just closed.
        if (head_length.error().code == Errc::limit_exceeded && stream->is_open()) {
          auto bad = state->cover->bad_request();
          ByteView bytes = bad.bytes;
          auto ignored = co_await stream->write(bytes);
          (void)ignored;
        }
        stream->close();
        if (request == 0)
          reject(*state, peer, phase_error(timed_out, "reading the HTTP request", head_length.error()));
        co_return;
      }
      ByteView head_bytes = ByteView(buffer).first(*head_length);
      auto head = ws::parse_request_head(head_bytes);
      if (!head.ok()) {
        auto bad = state->cover->bad_request();
        ByteView bytes = bad.bytes;
        auto ignored = co_await stream->write(bytes);
        (void)ignored;
        stream->close();
        if (request == 0) reject(*state, peer, head.error());
        co_return;
      }
      if (auto answer = ws::upgrade_response_for(*head, state->endpoint.path)) {
        // Named arguments only: GCC 12 destroys prvalue coroutine arguments twice.
        Bytes already_read(buffer.begin() + static_cast<std::ptrdiff_t>(*head_length), buffer.end());
        std::string answer_text = std::move(*answer);
        co_await upgrade(state, std::move(stream), std::move(answer_text), std::move(already_read));
        co_return;
      }
      auto response = state->cover->respond(*head);
      ByteView bytes = response.bytes;
      auto sent = co_await stream->write(bytes);
      // A request body is not read (the cover site serves only GET/HEAD): close after such
      // a request rather than parse the body as the next request.
      const bool has_body = head->header("Transfer-Encoding").has_value() ||
                            (head->header("Content-Length") && *head->header("Content-Length") != "0");
      if (!sent.ok() || !response.keep_alive || has_body) {
        stream->close();
        if (request == 0) reject(*state, peer, make_error(Errc::auth_failed, "served the cover site"));
        co_return;
      }
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*head_length));
    }
    stream->close();
  }

  static asio::awaitable<void> upgrade(std::shared_ptr<State> state, std::unique_ptr<ByteStream> stream,
                                       std::string answer, Bytes already_read) {
    const std::string peer = stream->peer_description();
    ByteView answer_bytes = as_bytes(answer);
    auto sent = co_await stream->write(answer_bytes);
    if (!sent.ok()) {
      stream->close();
      reject(*state, peer, sent.error());
      co_return;
    }
    std::unique_ptr<ByteStream> websocket = std::make_unique<ws::WebSocketByteStream>(
        std::move(stream), ws::WebSocketByteStream::Role::server, std::move(already_read));
    ServerHandshakeParams params;
    params.server_static = state->options.server_static;
    params.psk = state->endpoint.psk;
    params.replays = &state->replays;
    params.timeout = state->options.handshake_timeout;
    params.padding = state->options.padding;
    params.max_queued_bytes = state->options.max_queued_bytes;
    auto result = co_await server_handshake_over(std::move(websocket), params);
    if (!result.ok()) {
      // Inside the WebSocket a wrong PSK, a replay or junk ends like junk on tcp: closed.
      reject(*state, peer, result.error());
      co_return;
    }
    state->stats.accepted.fetch_add(1, std::memory_order_relaxed);
    state->handler(std::move(*result));
  }

  std::shared_ptr<State> state_;
};

// ---------------------------------------------------------------------------------
class WssTransport final : public Transport {
 public:
  explicit WssTransport(bool tls) : tls_(tls) {}

  std::string_view scheme() const override { return tls_ ? "wss" : "ws"; }

  asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                             const Endpoint& endpoint,
                                                             DialOptions options) override {
    if (endpoint.path.empty() || endpoint.path[0] != '/') {
      co_return make_error(Errc::invalid_argument, "endpoint " + endpoint.to_uri() +
                                                       " needs its secret path (" + std::string(scheme()) +
                                                       "://HOST:PORT/PATH)");
    }
    const auto deadline = Clock::now() + options.timeout;
    const std::string uri = endpoint.to_uri();

    tcp::socket socket(executor);
    {
      SocketDeadline connect_deadline(socket, options.timeout);
      tcp::resolver resolver(executor);
      auto [rec, results] = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                            tcp::resolver::numeric_service, use_tuple);
      if (rec)
        co_return make_error(Errc::network, "cannot resolve '" + endpoint.host + "': " + rec.message());
      auto [cec, connected] = co_await asio::async_connect(socket, results, use_tuple);
      if (cec) {
        if (connect_deadline.fired())
          co_return make_error(Errc::timeout, "connecting to " + uri + " timed out");
        co_return make_error(Errc::network, "cannot connect to " + uri + ": " + cec.message());
      }
    }

    std::unique_ptr<ByteStream> stream;
    if (tls_) {
      auto context = client_context();
      if (!context.ok()) co_return std::move(context).error();
      auto tls = std::make_unique<https::TlsByteStream>(std::move(socket), *context);
      SSL_set_alpn_protos(tls->ssl().native_handle(), kAlpnHttp11, sizeof kAlpnHttp11);
      const std::string server_name = endpoint.sni.empty() ? endpoint.host : endpoint.sni;
      Status handshake;
      bool timed_out = false;
      {
        StreamDeadline tls_deadline(*tls, remaining(deadline));
        handshake = co_await tls->client_handshake(server_name);
        timed_out = tls_deadline.fired();
      }
      if (!handshake.ok()) {
        tls->close();
        co_return phase_error(timed_out, "TLS handshake with " + uri, handshake.error());
      }
      stream = std::move(tls);
    } else {
      stream = std::make_unique<TcpByteStream>(std::move(socket));
    }

    // The WebSocket upgrade.
    ws::UpgradeRequest request;
    request.path = endpoint.path;
    request.host_header = endpoint.host_header.empty()
                              ? host_with_port(endpoint.host, endpoint.port, tls_ ? 443 : 80)
                              : endpoint.host_header;
    request.origin = (tls_ ? "https://" : "http://") + request.host_header;
    request.key = ws::make_client_key();
    const std::string request_text = ws::format_upgrade_request(request);
    Bytes buffer;
    Result<std::size_t> head_length = std::size_t{0};
    bool timed_out = false;
    {
      StreamDeadline upgrade_deadline(*stream, remaining(deadline));
      ByteView request_bytes = as_bytes(request_text);
      auto sent = co_await stream->write(request_bytes);
      if (sent.ok()) {
        head_length = co_await read_http_head(*stream, buffer);
      } else {
        head_length = std::move(sent).error();
      }
      timed_out = upgrade_deadline.fired();
    }
    if (!head_length.ok()) {
      stream->close();
      co_return phase_error(timed_out, "WebSocket upgrade at " + uri, head_length.error());
    }
    ByteView head_bytes = ByteView(buffer).first(*head_length);
    auto response = ws::parse_response_head(head_bytes);
    if (!response.ok()) {
      stream->close();
      co_return phase_error(false, "WebSocket upgrade at " + uri, response.error());
    }
    auto accepted = ws::check_upgrade_response(*response, request.key);
    if (!accepted.ok()) {
      stream->close();
      co_return phase_error(false, "WebSocket upgrade at " + uri, accepted.error());
    }

    Bytes already_read(buffer.begin() + static_cast<std::ptrdiff_t>(*head_length), buffer.end());
    std::unique_ptr<ByteStream> websocket = std::make_unique<ws::WebSocketByteStream>(
        std::move(stream), ws::WebSocketByteStream::Role::client, std::move(already_read));
    DialOptions inner = options;
    inner.timeout = remaining(deadline);
    co_return co_await client_handshake_over(std::move(websocket), endpoint, inner);
  }

  Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                           ListenOptions options) override {
    if (!options.server_static)
      return make_error(Errc::invalid_argument, "listen needs the server's static key");
    if (endpoint.path.size() < 2 || endpoint.path[0] != '/') {
      return make_error(Errc::invalid_argument, "listen on " + endpoint.to_uri() + ": " +
                                                    std::string(scheme()) + " needs a secret path (" +
                                                    std::string(scheme()) + "://HOST:PORT/SECRET)");
    }
    std::error_code ec;
    auto address = asio::ip::make_address(endpoint.host, ec);
    if (ec) {
      return make_error(Errc::invalid_argument,
                        "listen address '" + endpoint.host + "' is not an IP address (use e.g. 127.0.0.1)");
    }
    auto state = std::make_shared<WssListener::State>(executor, std::move(options));
    if (tls_) {
      if (state->options.tls_certificate.empty() || state->options.tls_private_key.empty()) {
        return make_error(Errc::invalid_argument,
                          "wss listener " + endpoint.to_uri() +
                              " needs a TLS certificate and key (samizdatd init writes a self-signed pair)");
      }
      state->tls =
          SZ_TRY(https::make_server_context(state->options.tls_certificate, state->options.tls_private_key));
    }
    state->cover = SZ_TRY(https::CoverSite::open(state->options.cover_site));

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
    return std::unique_ptr<Listener>(std::make_unique<WssListener>(std::move(state)));
  }

 private:
  // One client TLS context per transport (session tickets are cached in it).
  Result<std::shared_ptr<asio::ssl::context>> client_context() {
    std::lock_guard lock(mutex_);
    if (!client_context_) client_context_ = SZ_TRY(https::make_client_context());
    return client_context_;
  }

  bool tls_;
  std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> client_context_;
};

}  // namespace

std::shared_ptr<Transport> make_wss_transport() { return std::make_shared<WssTransport>(true); }
std::shared_ptr<Transport> make_ws_transport() { return std::make_shared<WssTransport>(false); }

}  // namespace samizdat::transport
