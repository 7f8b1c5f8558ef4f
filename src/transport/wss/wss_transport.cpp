#include "transport/wss/wss_transport.hpp"

#include "transport/https/cover_site.hpp"
#include "transport/https/read_http_head.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/https/upgrade_dial.hpp"
#include "transport/noise/noise_over_stream.hpp"
#include "transport/socket/connect_tcp.hpp"
#include "transport/socket/socket_listener.hpp"
#include "transport/socket/socket_transport.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "transport/wss/websocket_stream.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;

// How long a keep-alive connection may sit between cover-site requests (nginx's
// keepalive_timeout default is 75 s), and how many requests one connection may make.
constexpr std::chrono::milliseconds kKeepAliveTimeout{75'000};
constexpr int kMaxRequestsPerConnection = 100;

std::string scheme_of(bool with_tls) { return with_tls ? "wss" : "ws"; }

Error phase_error(bool timed_out, const std::string& what, const Error& error) {
  if (timed_out) return make_error(Errc::timeout, what + " timed out");
  return make_error(error.code, what + ": " + error.message);
}

// What a wss (or ws) listener adds to the skeleton's state.
struct WssSite {
  std::shared_ptr<asio::ssl::context> tls;  // null for ws://
  std::shared_ptr<const https::CoverSite> cover;
};

// After the 101: the Noise handshake inside the WebSocket. A wrong PSK, a replay or junk
// in there ends like junk on tcp: closed.
asio::awaitable<void> upgrade(std::shared_ptr<ListenerState> listener, std::unique_ptr<ByteStream> stream,
                              std::string answer, Bytes already_read) {
  const std::string peer = stream->peer_description();
  ByteView answer_bytes = as_bytes(answer);
  auto sent = co_await stream->write(answer_bytes);
  if (!sent.ok()) {
    stream->close();
    listener->reject(peer, sent.error());
    co_return;
  }
  std::unique_ptr<ByteStream> websocket = std::make_unique<ws::WebSocketByteStream>(
      std::move(stream), ws::WebSocketByteStream::Role::server, std::move(already_read));
  co_await accept_over(*listener, std::move(websocket), peer);
}

// One connection: TLS, then HTTP requests until one upgrades on the secret path (then
// the Noise handshake inside the WebSocket) or the visitor is done with the cover site.
// Only a connection whose first request never got a normal answer counts as rejected.
asio::awaitable<void> serve(std::shared_ptr<ListenerState> listener, std::shared_ptr<WssSite> site,
                            tcp::socket socket) {
  std::unique_ptr<ByteStream> stream;
  if (site->tls) {
    auto tls = std::make_unique<https::TlsByteStream>(std::move(socket), site->tls);
    Status handshake;
    bool timed_out = false;
    {
      Deadline deadline(*tls, deadline_after(listener->options.handshake_timeout));
      handshake = co_await tls->server_handshake();
      timed_out = deadline.fired();
    }
    if (!handshake.ok()) {
      // OpenSSL has answered as any TLS server would (an alert, or nothing for junk).
      std::string peer = tls->peer_description();
      tls->close();
      listener->reject(peer, phase_error(timed_out, "TLS handshake", handshake.error()));
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
      Deadline deadline(
          *stream, deadline_after(request == 0 ? listener->options.handshake_timeout : kKeepAliveTimeout));
      head_length = co_await https::read_http_head(*stream, buffer);
      timed_out = deadline.fired();
    }
    if (!head_length.ok()) {
      // Too long a head: nginx answers 400 and closes; a silent or closed peer is just closed.
      if (head_length.error().code == Errc::limit_exceeded && stream->is_open()) {
        auto bad = site->cover->bad_request();
        ByteView bytes = bad.bytes;
        auto ignored = co_await stream->write(bytes);
        (void)ignored;
      }
      stream->close();
      if (request == 0)
        listener->reject(peer, phase_error(timed_out, "reading the HTTP request", head_length.error()));
      co_return;
    }
    ByteView head_bytes = ByteView(buffer).first(*head_length);
    auto head = ws::parse_request_head(head_bytes);
    if (!head.ok()) {
      auto bad = site->cover->bad_request();
      ByteView bytes = bad.bytes;
      auto ignored = co_await stream->write(bytes);
      (void)ignored;
      stream->close();
      if (request == 0) listener->reject(peer, head.error());
      co_return;
    }
    if (auto answer = ws::upgrade_response_for(*head, listener->endpoint.path)) {
      // Named arguments only: GCC 12 destroys prvalue coroutine arguments twice.
      Bytes already_read(buffer.begin() + static_cast<std::ptrdiff_t>(*head_length), buffer.end());
      std::string answer_text = std::move(*answer);
      co_await upgrade(listener, std::move(stream), std::move(answer_text), std::move(already_read));
      co_return;
    }
    auto response = site->cover->respond(*head);
    ByteView bytes = response.bytes;
    auto sent = co_await stream->write(bytes);
    // A request body is not read (the cover site serves only GET/HEAD): close after such
    // a request rather than parse the body as the next request.
    const bool has_body = head->header("Transfer-Encoding").has_value() ||
                          (head->header("Content-Length") && *head->header("Content-Length") != "0");
    if (!sent.ok() || !response.keep_alive || has_body) {
      stream->close();
      if (request == 0) listener->reject(peer, make_error(Errc::auth_failed, "served the cover site"));
      co_return;
    }
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*head_length));
  }
  stream->close();
}

// wss (with_tls) or ws: the WebSocket upgrade on the secret path, then the Noise handshake
// inside binary messages.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> websocket_dial(bool with_tls,
                                                                     asio::any_io_executor executor,
                                                                     const Endpoint& endpoint,
                                                                     DialOptions options,
                                                                     DeadlineClock::time_point deadline) {
  if (endpoint.path.empty() || endpoint.path[0] != '/') {
    co_return make_error(Errc::invalid_argument, "endpoint " + endpoint.to_uri() +
                                                     " needs its secret path (" + scheme_of(with_tls) +
                                                     "://HOST:PORT/PATH)");
  }
  SZ_CO_TRY_RESULT(socket, co_await connect_tcp(executor, endpoint, deadline));
  std::unique_ptr<ByteStream> stream;
  if (with_tls) {
    SZ_CO_TRY_RESULT(
        tls, co_await https::start_tls(std::move(socket), endpoint, https::Alpn::http11_only, deadline));
    stream = std::move(tls);
  } else {
    stream = std::make_unique<TcpByteStream>(std::move(socket));
  }
  ws::UpgradeRequest request;
  request.path = endpoint.path;
  request.host_header = endpoint.host_header.empty()
                            ? https::http_host(endpoint.host, endpoint.port, with_tls ? 443 : 80)
                            : endpoint.host_header;
  request.origin = (with_tls ? "https://" : "http://") + request.host_header;
  request.key = ws::make_client_key();
  const std::string request_text = ws::format_upgrade_request(request);
  SZ_CO_TRY_RESULT(answer, co_await https::request_upgrade(*stream, request_text, endpoint, deadline));
  auto accepted = ws::check_upgrade_response(answer.head, request.key);
  if (!accepted.ok()) {
    co_return make_error(accepted.error().code,
                         "WebSocket upgrade at " + endpoint.to_uri() + ": " + accepted.error().message);
  }
  std::unique_ptr<ByteStream> websocket = std::make_unique<ws::WebSocketByteStream>(
      std::move(stream), ws::WebSocketByteStream::Role::client, std::move(answer.rest));
  co_return co_await client_handshake_over(std::move(websocket), endpoint, options, deadline);
}

Result<std::unique_ptr<Listener>> websocket_listen(bool with_tls, asio::any_io_executor executor,
                                                   const Endpoint& endpoint, ListenOptions options) {
  SZ_CHECK(check_listen_request(endpoint, options));
  if (endpoint.path.size() < 2 || endpoint.path[0] != '/') {
    const std::string scheme = scheme_of(with_tls);
    return make_error(Errc::invalid_argument, "listen on " + endpoint.to_uri() + ": " + scheme +
                                                  " needs a secret path (" + scheme + "://HOST:PORT/SECRET)");
  }
  auto site = std::make_shared<WssSite>();
  if (with_tls) {
    if (options.tls_certificate.empty() || options.tls_private_key.empty()) {
      return make_error(Errc::invalid_argument,
                        "wss listener " + endpoint.to_uri() +
                            " needs a TLS certificate and key (samizdatd init writes a self-signed pair)");
    }
    site->tls = SZ_TRY(https::make_server_context(options.tls_certificate, options.tls_private_key));
  }
  site->cover = SZ_TRY(https::CoverSite::open(options.cover_site));
  return listen_tcp(std::move(executor), endpoint, std::move(options), serve, std::move(site));
}

std::shared_ptr<Transport> make_websocket_transport(bool with_tls) {
  SocketTransportParts parts;
  parts.scheme = scheme_of(with_tls);
  parts.dial = [with_tls](asio::any_io_executor executor, const Endpoint& endpoint, DialOptions options,
                          DeadlineClock::time_point deadline) {
    return websocket_dial(with_tls, std::move(executor), endpoint, std::move(options), deadline);
  };
  parts.listen = [with_tls](asio::any_io_executor executor, const Endpoint& endpoint, ListenOptions options) {
    return websocket_listen(with_tls, std::move(executor), endpoint, std::move(options));
  };
  return make_socket_transport(std::move(parts));
}

}  // namespace

std::shared_ptr<Transport> make_wss_transport() { return make_websocket_transport(true); }
std::shared_ptr<Transport> make_ws_transport() { return make_websocket_transport(false); }

}  // namespace samizdat::transport
