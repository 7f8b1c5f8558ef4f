#include "transport/https/upgrade_dial.hpp"

#include <openssl/ssl.h>

#include <mutex>

#include "transport/https/read_http_head.hpp"
#include "util/coro.hpp"

namespace samizdat::transport::https {
namespace {

// ALPN of Chromium's WebSocket connections: HTTP/1.1 only (the upgrade needs it).
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> shared_client_context() {
  static std::mutex mutex;
  static std::shared_ptr<asio::ssl::context> context;
  std::lock_guard lock(mutex);
  if (!context) context = SZ_TRY(make_client_context());
  return context;
}

asio::awaitable<Result<std::unique_ptr<TlsByteStream>>> start_tls(asio::ip::tcp::socket socket,
                                                                  const Endpoint& endpoint, Alpn alpn,
                                                                  DeadlineClock::time_point deadline) {
  auto context = shared_client_context();
  if (!context.ok()) co_return std::move(context).error();
  auto tls = std::make_unique<TlsByteStream>(std::move(socket), *context);
  if (alpn == Alpn::http11_only)
    SSL_set_alpn_protos(tls->ssl().native_handle(), kAlpnHttp11, sizeof kAlpnHttp11);
  const std::string server_name = endpoint.sni.empty() ? endpoint.host : endpoint.sni;
  Status handshake;
  {
    Deadline guard(*tls, deadline);
    handshake = co_await tls->client_handshake(server_name);
    if (guard.fired())
      co_return make_error(Errc::timeout, "the TLS handshake with " + endpoint.to_uri() + " timed out");
  }
  if (!handshake.ok()) {
    co_return make_error(Errc::network,
                         "TLS with " + endpoint.to_uri() + " failed: " + handshake.error().message);
  }
  co_return std::move(tls);
}

std::string http_host(std::string_view name, std::uint16_t port, std::uint16_t default_port) {
  std::string host =
      name.find(':') != std::string_view::npos ? "[" + std::string(name) + "]" : std::string(name);
  if (port != default_port) host += ":" + std::to_string(port);
  return host;
}

asio::awaitable<Result<UpgradeAnswer>> request_upgrade(ByteStream& stream, std::string_view request,
                                                       const Endpoint& endpoint,
                                                       DeadlineClock::time_point deadline) {
  const std::string uri = endpoint.to_uri();
  Bytes buffer;
  Result<std::size_t> head_length = std::size_t{0};
  {
    Deadline guard(stream, deadline);
    ByteView request_bytes = as_bytes(request);
    auto sent = co_await stream.write(request_bytes);
    if (!sent.ok()) {
      if (guard.fired())
        co_return make_error(Errc::timeout, "the WebSocket upgrade at " + uri + " timed out");
      co_return make_error(Errc::network, "sending to " + uri + " failed: " + sent.error().message);
    }
    head_length = co_await read_http_head(stream, buffer);
    if (guard.fired()) co_return make_error(Errc::timeout, "the WebSocket upgrade at " + uri + " timed out");
  }
  if (!head_length.ok()) {
    if (head_length.error().code == Errc::limit_exceeded) {
      co_return make_error(Errc::protocol, uri + " sent an oversized HTTP answer");
    }
    co_return make_error(Errc::network, "the server at " + uri + " closed the connection before answering: " +
                                            head_length.error().message);
  }
  auto head = ws::parse_response_head(ByteView(buffer).first(*head_length));
  if (!head.ok()) {
    co_return make_error(Errc::malformed, "WebSocket upgrade at " + uri + ": " + head.error().message);
  }
  Bytes rest(buffer.begin() + static_cast<std::ptrdiff_t>(*head_length), buffer.end());
  co_return UpgradeAnswer{std::move(*head), std::move(rest)};
}

}  // namespace samizdat::transport::https
