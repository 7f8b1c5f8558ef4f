#include "transport/tls/tls_transport.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "transport/https/cover_site.hpp"
#include "transport/https/http_server.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/rate_limited_log.hpp"
#include "transport/replay_cache.hpp"
#include "transport/stream/noise_over_stream.hpp"
#include "transport/stream/stream_deadline.hpp"
#include "transport/tls/tls_token.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;

std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

std::string host_header_for(const Endpoint& endpoint) {
  std::string host = !endpoint.host_header.empty() ? endpoint.host_header
                     : !endpoint.sni.empty()       ? endpoint.sni
                                                   : endpoint.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6 literal
  if (endpoint.port != 443) host += ":" + std::to_string(endpoint.port);
  return host;
}

// The 101 an nginx proxying a WebSocket sends (Server, Date, then the upgrade headers).
std::string upgrade_answer(std::string_view client_key) {
  return "HTTP/1.1 101 Switching Protocols\r\nServer: nginx\r\nDate: " +
         https::http_date(unix_millis() / 1000) +
         "\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " +
         ws::accept_key_for(client_key) + "\r\n\r\n";
}

// nginx's answer to plain HTTP sent to its TLS port.
std::string plain_http_answer() {
  constexpr std::string_view kBody =
      "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n"
      "<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS "
      "port</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
  return "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nDate: " + https::http_date(unix_millis() / 1000) +
         "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(kBody.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string(kBody);
}

// ---------------------------------------------------------------------------------
class TlsListener final : public Listener {
 public:
  struct State {
    State(asio::any_io_executor executor, ListenOptions opts)
        : acceptor(std::move(executor)), options(std::move(opts)) {}
    tcp::acceptor acceptor;
    ListenOptions options;
    Endpoint endpoint;
    AcceptHandler handler;
    ListenerStats stats;
    std::shared_ptr<asio::ssl::context> tls;
    std::shared_ptr<const https::CoverSite> site;
    crypto::Secret<32> token_key;
    ReplayCache token_replays;
    ReplayCache noise_replays;
    RateLimitedLog rejections;
  };

  explicit TlsListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~TlsListener() override { close(); }

  void start(AcceptHandler handler) override {
    state_->handler = std::move(handler);
    asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                   log_escape("tls_transport: accept_loop"));
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
      asio::co_spawn(executor, serve(state, std::move(socket)), log_escape("tls_transport: serve"));
    }
  }

  static void reject(State& state, const std::string& peer, const Error& error) {
    state.stats.rejected.fetch_add(1, std::memory_order_relaxed);
    state.rejections.warn("tls connection from " + peer + " on " + state.endpoint.to_uri() +
                          " did not authenticate: " + error.describe());
  }

  static asio::awaitable<void> serve(std::shared_ptr<State> state, tcp::socket socket) {
    auto tls = std::make_unique<https::TlsByteStream>(std::move(socket), state->tls);
    https::TlsByteStream* session = tls.get();
    std::string peer = tls->peer_description();
    Status handshake;
    {
      // Junk that is not TLS fails here and is closed, as OpenSSL-based servers do; plain
      // HTTP gets nginx's answer to it.
      StreamDeadline deadline(*tls, state->options.handshake_timeout);
      std::array<std::uint8_t, 1> first{};
      auto [pec, peeked] = co_await tls->ssl().next_layer().async_receive(
          asio::buffer(first), asio::socket_base::message_peek, use_tuple);
      if (!pec && peeked == 1 && first[0] >= 'A' && first[0] <= 'Z') {
        auto answer = plain_http_answer();
        ByteView answer_bytes = as_bytes(answer);
        co_await asio::async_write(tls->ssl().next_layer(),
                                   asio::buffer(answer_bytes.data(), answer_bytes.size()), use_tuple);
        tls->close();
        reject(*state, peer, make_error(Errc::protocol, "plain HTTP on the TLS port"));
        co_return;
      }
      handshake = co_await tls->server_handshake();
    }
    if (!handshake.ok()) {
      tls->close();
      reject(*state, peer, handshake.error());
      co_return;
    }
    auto exporter = session->export_keying_material(tls::kExporterLabel, tls::kExporterSize);
    if (!exporter.ok()) {
      reject(*state, peer, exporter.error());
      co_return;
    }
    // A request is ours only with a valid, fresh, unreplayed token; everything else,
    // including a wrong one, gets exactly what any visitor gets.
    std::string client_key;
    std::function<bool(const ws::HttpHead&)> intercept = [&](const ws::HttpHead& request) {
      if (request.method != "GET") return false;
      auto cookies = request.header("Cookie");
      if (!cookies) return false;
      auto token = tls::find_cookie(*cookies, tls::kTokenCookie);
      if (!token) return false;
      auto key = request.header("Sec-WebSocket-Key");
      if (!key || key->empty()) return false;
      auto raw = tls::check_token(state->token_key, *token, *exporter, unix_millis() / 1000);
      if (!raw.ok()) return false;
      if (state->token_replays.check_and_insert(*raw)) return false;
      client_key = std::string(*key);
      return true;
    };
    https::HttpServeOptions http_options;
    auto intercepted =
        co_await https::serve_cover_site_until(std::move(tls), *state->site, intercept, http_options);
    if (!intercepted.ok()) {
      reject(*state, peer, intercepted.error());
      co_return;
    }
    auto answer = upgrade_answer(client_key);
    ByteView answer_bytes = as_bytes(answer);
    auto sent = co_await intercepted->stream->write(answer_bytes);
    if (!sent.ok()) {
      reject(*state, peer, sent.error());
      co_return;
    }
    std::unique_ptr<ByteStream> inner =
        std::make_unique<PrefixedByteStream>(std::move(intercepted->rest), std::move(intercepted->stream));
    ServerHandshakeParams params;
    params.server_static = state->options.server_static;
    params.psk = state->endpoint.psk;
    params.replays = &state->noise_replays;
    params.timeout = state->options.handshake_timeout;
    params.padding = state->options.padding;
    params.max_queued_bytes = state->options.max_queued_bytes;
    auto stream = co_await server_handshake_over(std::move(inner), params);
    if (!stream.ok()) {
      reject(*state, peer, stream.error());
      co_return;
    }
    state->stats.accepted.fetch_add(1, std::memory_order_relaxed);
    state->handler(std::move(*stream));
  }

  std::shared_ptr<State> state_;
};

// ---------------------------------------------------------------------------------
class TlsTransport final : public Transport {
 public:
  std::string_view scheme() const override { return "tls"; }

  asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                             const Endpoint& endpoint,
                                                             DialOptions options) override {
    auto until = std::chrono::steady_clock::now() + options.timeout;
    auto context = client_context();
    if (!context.ok()) co_return std::move(context).error();

    // TCP connect, bounded by the deadline (the timer cancels the socket).
    auto socket = std::make_shared<tcp::socket>(executor);
    auto timed_out = std::make_shared<bool>(false);
    asio::steady_timer connect_timer(executor);
    connect_timer.expires_at(until);
    connect_timer.async_wait([socket, timed_out](std::error_code ec) {
      if (ec) return;
      *timed_out = true;
      std::error_code ignored;
      socket->cancel(ignored);
    });
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                          tcp::resolver::numeric_service, use_tuple);
    if (rec) co_return make_error(Errc::network, "cannot resolve '" + endpoint.host + "': " + rec.message());
    auto [cec, connected] = co_await asio::async_connect(*socket, results, use_tuple);
    (void)connected;
    connect_timer.cancel();
    if (cec || *timed_out) {
      if (*timed_out)
        co_return make_error(Errc::timeout, "connecting to " + endpoint.to_uri() + " timed out");
      co_return make_error(Errc::network, "cannot connect to " + endpoint.to_uri() + ": " + cec.message());
    }

    auto tls = std::make_unique<https::TlsByteStream>(std::move(*socket), *context);
    Bytes rest;
    {
      StreamDeadline deadline(*tls, remaining(until));
      std::string server_name = endpoint.sni.empty() ? endpoint.host : endpoint.sni;
      auto handshake = co_await tls->client_handshake(server_name);
      if (!handshake.ok()) {
        tls->close();
        if (deadline.fired())
          co_return make_error(Errc::timeout, "the TLS handshake with " + endpoint.to_uri() + " timed out");
        co_return make_error(Errc::network,
                             "TLS with " + endpoint.to_uri() + " failed: " + handshake.error().message);
      }
      auto exporter = tls->export_keying_material(tls::kExporterLabel, tls::kExporterSize);
      if (!exporter.ok()) co_return std::move(exporter).error();
      auto token_key = tls::derive_token_key(endpoint.psk);
      ws::UpgradeRequest upgrade;
      upgrade.path = endpoint.path.empty() ? "/" : endpoint.path;
      upgrade.host_header = host_header_for(endpoint);
      upgrade.origin = "https://" + upgrade.host_header;
      upgrade.key = ws::make_client_key();
      std::string request = ws::format_upgrade_request(upgrade);
      auto cookie = "Cookie: " + std::string(tls::kTokenCookie) + "=" +
                    tls::make_token(token_key, *exporter, unix_millis() / 1000) + "\r\n";
      request.insert(request.find("Sec-WebSocket-Key:"), cookie);
      ByteView request_bytes = as_bytes(request);
      auto sent = co_await tls->write(request_bytes);
      if (!sent.ok()) {
        tls->close();
        if (deadline.fired())
          co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
        co_return make_error(Errc::network,
                             "sending to " + endpoint.to_uri() + " failed: " + sent.error().message);
      }
      // Read the answer's head.
      Bytes buffer;
      std::size_t head_length = 0;
      for (;;) {
        auto end = ws::find_head_end(buffer);
        if (!end.ok()) {
          tls->close();
          co_return make_error(Errc::protocol, endpoint.to_uri() + " sent an oversized HTTP answer");
        }
        if (end->has_value()) {
          head_length = **end;
          break;
        }
        std::size_t old_size = buffer.size();
        buffer.resize(old_size + 2048);
        std::span<std::uint8_t> target(buffer.data() + old_size, 2048);
        auto n = co_await tls->read_some(target);
        if (!n.ok()) {
          tls->close();
          if (deadline.fired())
            co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
          co_return make_error(Errc::network,
                               "the server at " + endpoint.to_uri() +
                                   " closed the connection before answering: " + n.error().message);
        }
        buffer.resize(old_size + *n);
      }
      auto response = ws::parse_response_head(ByteView(buffer.data(), head_length));
      if (!response.ok() || response->status != 101) {
        tls->close();
        co_return make_error(
            Errc::network,
            endpoint.to_uri() +
                " answered as an ordinary website, not as a Samizdat server (wrong PSK for this "
                "endpoint, a clock more than two minutes off, or a middlebox in the TLS session)");
      }
      auto checked = ws::check_upgrade_response(*response, upgrade.key);
      if (!checked.ok()) {
        tls->close();
        co_return std::move(checked).error();
      }
      rest.assign(buffer.begin() + static_cast<std::ptrdiff_t>(head_length), buffer.end());
      if (deadline.fired())
        co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
    }
    std::unique_ptr<ByteStream> inner = std::make_unique<PrefixedByteStream>(std::move(rest), std::move(tls));
    DialOptions noise_options = options;
    noise_options.timeout = remaining(until);
    co_return co_await client_handshake_over(std::move(inner), endpoint, noise_options);
  }

  Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                           ListenOptions options) override {
    if (!options.server_static)
      return make_error(Errc::invalid_argument, "listen needs the server's static key");
    if (options.tls_certificate.empty() || options.tls_private_key.empty()) {
      return make_error(Errc::invalid_argument,
                        "a tls listener needs a certificate and key (tls_certificate and tls_private_key in "
                        "config.toml; `samizdatd init` writes a self-signed pair)");
    }
    std::error_code ec;
    auto address = asio::ip::make_address(endpoint.host, ec);
    if (ec) {
      return make_error(Errc::invalid_argument,
                        "listen address '" + endpoint.host + "' is not an IP address (use e.g. 127.0.0.1)");
    }
    auto tls = https::make_server_context(options.tls_certificate, options.tls_private_key);
    if (!tls.ok()) return std::move(tls).error();
    auto site = https::CoverSite::open(options.cover_site);
    if (!site.ok()) return std::move(site).error();
    auto state = std::make_shared<TlsListener::State>(executor, std::move(options));
    state->tls = std::move(*tls);
    state->site = std::move(*site);
    state->token_key = tls::derive_token_key(endpoint.psk);
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
    return std::unique_ptr<Listener>(std::make_unique<TlsListener>(std::move(state)));
  }

 private:
  // One client context for every dial (it is thread-safe once configured).
  Result<std::shared_ptr<asio::ssl::context>> client_context() {
    std::call_once(client_once_, [this] {
      auto made = https::make_client_context();
      if (made.ok())
        client_ = std::move(*made);
      else
        client_error_ = made.error();
    });
    if (client_) return client_;
    return *client_error_;
  }

  std::once_flag client_once_;
  std::shared_ptr<asio::ssl::context> client_;
  std::optional<Error> client_error_;
};

}  // namespace

std::shared_ptr<Transport> make_tls_transport() { return std::make_shared<TlsTransport>(); }

}  // namespace samizdat::transport
