#include "transport/tls/tls_transport.hpp"

#include <asio/write.hpp>

#include "transport/https/cover_site.hpp"
#include "transport/https/http_server.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/https/upgrade_dial.hpp"
#include "transport/noise/noise_over_stream.hpp"
#include "transport/socket/connect_tcp.hpp"
#include "transport/socket/socket_listener.hpp"
#include "transport/socket/socket_transport.hpp"
#include "transport/tls/tls_token.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;
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

// What a tls listener adds to the skeleton's state.
struct TlsSite {
  std::shared_ptr<asio::ssl::context> tls;
  std::shared_ptr<const https::CoverSite> site;
  crypto::Secret<32> token_key;
  ReplayCache token_replays;
};

// Junk that is not TLS fails in the TLS handshake and is closed, as OpenSSL-based servers
// do; plain HTTP gets nginx's answer to it. Errors say why the connection ended.
asio::awaitable<Status> tls_handshake(https::TlsByteStream& tls, std::chrono::milliseconds timeout) {
  Deadline deadline(tls, deadline_after(timeout));
  std::array<std::uint8_t, 1> first{};
  auto [pec, peeked] = co_await tls.ssl().next_layer().async_receive(
      asio::buffer(first), asio::socket_base::message_peek, use_tuple);
  if (!pec && peeked == 1 && first[0] >= 'A' && first[0] <= 'Z') {
    auto answer = plain_http_answer();
    ByteView answer_bytes = as_bytes(answer);
    co_await asio::async_write(tls.ssl().next_layer(), asio::buffer(answer_bytes.data(), answer_bytes.size()),
                               use_tuple);
    co_return make_error(Errc::protocol, "plain HTTP on the TLS port");
  }
  co_return co_await tls.server_handshake();
}

// One connection: TLS, then the cover site for every request until one carries a valid,
// fresh, unreplayed token (everything else, a wrong token included, gets exactly what any
// visitor gets), then a 101 and the Noise handshake inside TLS.
asio::awaitable<void> serve(std::shared_ptr<ListenerState> listener, std::shared_ptr<TlsSite> site,
                            tcp::socket socket) {
  auto tls = std::make_unique<https::TlsByteStream>(std::move(socket), site->tls);
  https::TlsByteStream* session = tls.get();
  std::string peer = tls->peer_description();
  auto handshake = co_await tls_handshake(*tls, listener->options.handshake_timeout);
  if (!handshake.ok()) {
    tls->close();
    listener->reject(peer, handshake.error());
    co_return;
  }
  auto exporter = session->export_keying_material(tls::kExporterLabel, tls::kExporterSize);
  if (!exporter.ok()) {
    listener->reject(peer, exporter.error());
    co_return;
  }
  std::string client_key;
  std::function<bool(const ws::HttpHead&)> intercept = [&](const ws::HttpHead& request) {
    if (request.method != "GET") return false;
    auto cookies = request.header("Cookie");
    if (!cookies) return false;
    auto token = tls::find_cookie(*cookies, tls::kTokenCookie);
    if (!token) return false;
    auto key = request.header("Sec-WebSocket-Key");
    if (!key || key->empty()) return false;
    auto raw = tls::check_token(site->token_key, *token, *exporter, unix_millis() / 1000);
    if (!raw.ok()) return false;
    if (site->token_replays.check_and_insert(*raw)) return false;
    client_key = std::string(*key);
    return true;
  };
  https::HttpServeOptions http_options;
  auto intercepted =
      co_await https::serve_cover_site_until(std::move(tls), *site->site, intercept, http_options);
  if (!intercepted.ok()) {
    listener->reject(peer, intercepted.error());
    co_return;
  }
  auto answer = upgrade_answer(client_key);
  ByteView answer_bytes = as_bytes(answer);
  auto sent = co_await intercepted->stream->write(answer_bytes);
  if (!sent.ok()) {
    listener->reject(peer, sent.error());
    co_return;
  }
  std::unique_ptr<ByteStream> inner =
      std::make_unique<PrefixedByteStream>(std::move(intercepted->rest), std::move(intercepted->stream));
  co_await accept_over(*listener, std::move(inner), peer);
}

// The upgrade request of a dial: a browser's WebSocket request carrying the token, bound
// to this TLS session by its exporter, as a cookie.
Result<ws::UpgradeRequest> token_request(https::TlsByteStream& tls, const Endpoint& endpoint) {
  auto exporter = SZ_TRY(tls.export_keying_material(tls::kExporterLabel, tls::kExporterSize));
  ws::UpgradeRequest request;
  request.path = endpoint.path.empty() ? "/" : endpoint.path;
  const std::string& name = !endpoint.host_header.empty() ? endpoint.host_header
                            : !endpoint.sni.empty()       ? endpoint.sni
                                                          : endpoint.host;
  request.host_header = https::http_host(name, endpoint.port, 443);
  request.origin = "https://" + request.host_header;
  request.key = ws::make_client_key();
  request.cookie = std::string(tls::kTokenCookie) + "=" +
                   tls::make_token(tls::derive_token_key(endpoint.psk), exporter, unix_millis() / 1000);
  return request;
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> tls_dial(asio::any_io_executor executor,
                                                               const Endpoint& endpoint, DialOptions options,
                                                               DeadlineClock::time_point deadline) {
  SZ_CO_TRY_RESULT(socket, co_await connect_tcp(executor, endpoint, deadline));
  SZ_CO_TRY_RESULT(
      tls, co_await https::start_tls(std::move(socket), endpoint, https::Alpn::browser_default, deadline));
  SZ_CO_TRY_RESULT(request, token_request(*tls, endpoint));
  const std::string request_text = ws::format_upgrade_request(request);
  auto answer = co_await https::request_upgrade(*tls, request_text, endpoint, deadline);
  if (!answer.ok() && answer.error().code != Errc::malformed) co_return std::move(answer).error();
  if (!answer.ok() || answer->head.status != 101) {
    co_return make_error(
        Errc::network, endpoint.to_uri() +
                           " answered as an ordinary website, not as a Samizdat server (wrong PSK for this "
                           "endpoint, a clock more than two minutes off, or a middlebox in the TLS session)");
  }
  SZ_CO_TRY(ws::check_upgrade_response(answer->head, request.key));
  std::unique_ptr<ByteStream> inner =
      std::make_unique<PrefixedByteStream>(std::move(answer->rest), std::move(tls));
  co_return co_await client_handshake_over(std::move(inner), endpoint, options, deadline);
}

Result<std::unique_ptr<Listener>> tls_listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                             ListenOptions options) {
  SZ_CHECK(check_listen_request(endpoint, options));
  if (options.tls_certificate.empty() || options.tls_private_key.empty()) {
    return make_error(Errc::invalid_argument,
                      "a tls listener needs a certificate and key (tls_certificate and tls_private_key in "
                      "config.toml; `samizdatd init` writes a self-signed pair)");
  }
  auto site = std::make_shared<TlsSite>();
  site->tls = SZ_TRY(https::make_server_context(options.tls_certificate, options.tls_private_key));
  site->site = SZ_TRY(https::CoverSite::open(options.cover_site));
  site->token_key = tls::derive_token_key(endpoint.psk);
  return listen_tcp(std::move(executor), endpoint, std::move(options), serve, std::move(site));
}

}  // namespace

std::shared_ptr<Transport> make_tls_transport() {
  return make_socket_transport({"tls", tls_dial, tls_listen});
}

}  // namespace samizdat::transport
