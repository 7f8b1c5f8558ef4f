#include "reach/channels/https_mirror_map.hpp"

#include <openssl/ssl.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <memory>
#include <optional>

#include "util/coro.hpp"

namespace samizdat::reach {
namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

struct Url {
  std::string host;
  std::string port = "443";
  std::string path = "/";
};

Result<Url> parse_url(std::string_view url) {
  auto bad = [&url](const std::string& what) {
    return make_error(Errc::invalid_argument, "mirror URL '" + std::string(url) + "': " + what);
  };
  if (url.substr(0, 8) != "https://") return bad("must start with https://");
  std::string_view rest = url.substr(8);
  Url out;
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    out.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated '['");
    out.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after the IPv6 address");
      out.port = std::string(rest.substr(1));
    }
  } else {
    auto colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(rest.substr(colon + 1));
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (out.host.empty()) return bad("missing host");
  if (ec != std::errc() || ptr != out.port.data() + out.port.size() || port == 0 || port > 65535) {
    return bad("bad port");
  }
  for (char c : out.host + out.path) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
      return bad("invalid character");
  }
  return out;
}

Error protocol(const std::string& what) {
  return make_error(Errc::protocol, "mirror answered with " + what + ": it may be blocked or misconfigured");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<Bytes> decode_chunked(std::string_view body, std::size_t max_bytes) {
  Bytes out;
  while (true) {
    auto line_end = body.find("\r\n");
    if (line_end == std::string_view::npos) return protocol("a truncated chunked body");
    std::size_t size = 0;
    auto size_text = body.substr(0, line_end);
    auto [ptr, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc() || ptr == size_text.data()) return protocol("a bad chunk size");
    body.remove_prefix(line_end + 2);
    if (size == 0) return out;
    if (size > max_bytes || out.size() + size > max_bytes) {
      return make_error(Errc::limit_exceeded,
                        "mirror sent more than " + std::to_string(max_bytes) + " bytes");
    }
    if (body.size() < size + 2) return protocol("a truncated chunk");
    append(out, as_bytes(body.substr(0, size)));
    body.remove_prefix(size + 2);
  }
}

}  // namespace

// Status line, headers, then the body by Content-Length, chunked, or up to the close.
Result<Bytes> parse_mirror_response(std::string_view response, std::size_t max_bytes) {
  auto header_end = response.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return protocol("no complete HTTP header");
  auto head = response.substr(0, header_end);
  auto body = response.substr(header_end + 4);
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12)
    return protocol("something that is not HTTP");
  auto status = status_line.substr(9, 3);
  if (status != "200") return protocol("HTTP status " + std::string(status));
  std::optional<std::size_t> content_length;
  bool chunked = false;
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    auto line = head.substr(0, line_end);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = lower(line.substr(0, colon));
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "content-length") {
      std::size_t length = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc()) return protocol("a bad Content-Length");
      content_length = length;
    } else if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) {
      chunked = true;
    }
  }
  if (chunked) return decode_chunked(body, max_bytes);
  if (content_length) {
    if (*content_length > max_bytes) {
      return make_error(Errc::limit_exceeded, "mirror offers " + std::to_string(*content_length) +
                                                  " bytes, more than a map may have");
    }
    if (body.size() < *content_length) return protocol("a truncated body");
    body = body.substr(0, *content_length);
  }
  return to_bytes(as_bytes(body));
}

namespace {

struct FetchState {
  FetchState(asio::any_io_executor executor, asio::ssl::context& context)
      : stream(executor, context), timer(executor) {}
  asio::ssl::stream<asio::ip::tcp::socket> stream;
  asio::steady_timer timer;
  bool timed_out = false;
};

}  // namespace

asio::awaitable<Result<Bytes>> fetch_map_from_mirror(MapMirror mirror, MirrorFetchOptions options) {
  auto url = parse_url(mirror.url);
  if (!url.ok()) co_return std::move(url).error();
  auto executor = co_await asio::this_coro::executor;
  // No certificate checks on purpose: the map signature is the trust (see the header).
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_verify_mode(asio::ssl::verify_none);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(context.native_handle(), kAlpn, sizeof kAlpn);
  auto state = std::make_shared<FetchState>(executor, context);
  state->timer.expires_after(options.timeout);
  state->timer.async_wait([state](const asio::error_code& ec) {
    if (ec) return;
    state->timed_out = true;
    asio::error_code ignored;
    state->stream.lowest_layer().close(ignored);
  });
  auto timeout = [&]() {
    return make_error(Errc::timeout, "mirror " + mirror.url + " did not answer in time: it may be blocked");
  };

  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(url->host, url->port, use_tuple);
  if (resolve_error) {
    state->timer.cancel();
    co_return make_error(Errc::network,
                         "cannot resolve mirror host " + url->host + ": " + resolve_error.message());
  }
  auto [connect_error, connected] =
      co_await asio::async_connect(state->stream.lowest_layer(), endpoints, use_tuple);
  if (state->timed_out) co_return timeout();
  if (connect_error) {
    state->timer.cancel();
    co_return make_error(Errc::network,
                         "cannot connect to mirror " + mirror.url + ": " + connect_error.message());
  }
  const std::string& sni = mirror.front_sni.empty() ? url->host : mirror.front_sni;
  asio::error_code address_check;
  asio::ip::make_address(sni, address_check);
  if (address_check) SSL_set_tlsext_host_name(state->stream.native_handle(), sni.c_str());  // no SNI for IPs
  auto [handshake_error] = co_await state->stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (state->timed_out) co_return timeout();
  if (handshake_error) {
    state->timer.cancel();
    co_return make_error(Errc::network,
                         "TLS with mirror " + mirror.url + " failed: " + handshake_error.message());
  }
  const std::string& host = mirror.front_host.empty() ? url->host : mirror.front_host;
  std::string request = "GET " + url->path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  auto [write_error, written] = co_await asio::async_write(state->stream, asio::buffer(request), use_tuple);
  std::string response;
  std::size_t limit = options.max_bytes + kMaxHeaderBytes;
  std::array<char, 8192> buffer{};
  asio::error_code read_error = write_error;
  while (!read_error && response.size() <= limit) {
    auto [error, n] = co_await state->stream.async_read_some(asio::buffer(buffer), use_tuple);
    response.append(buffer.data(), n);
    read_error = error;
  }
  if (state->timed_out) co_return timeout();
  state->timer.cancel();
  asio::error_code ignored;
  state->stream.lowest_layer().close(ignored);
  // EOF (with or without close_notify) ends a Connection: close response; anything else is a failure.
  bool clean_end = read_error == asio::error::eof || read_error == asio::ssl::error::stream_truncated;
  if (response.size() > limit) {
    co_return make_error(Errc::limit_exceeded, "mirror " + mirror.url + " sent more than a map may have");
  }
  if (!clean_end && read_error) {
    co_return make_error(Errc::network,
                         "reading from mirror " + mirror.url + " failed: " + read_error.message());
  }
  co_return parse_mirror_response(response, options.max_bytes);
}

Result<Bytes> fetch_map_from_mirror_blocking(const MapMirror& mirror, const MirrorFetchOptions& options) {
  asio::io_context io;
  std::optional<Result<Bytes>> result;
  auto run = [&result, mirror, options]() -> asio::awaitable<void> {
    auto value = co_await fetch_map_from_mirror(mirror, options);
    result = std::move(value);
  };
  asio::co_spawn(io, run(), log_escape("https_mirror_map: run"));
  io.run();
  if (!result) return make_error(Errc::internal, "mirror fetch did not finish");
  return std::move(*result);
}

}  // namespace samizdat::reach
