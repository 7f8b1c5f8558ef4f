// The wss/ws transports over real sockets on 127.0.0.1: dial/accept with echoed frames,
// the cover site for everything that is not an upgrade on the secret path, and how the
// WebSocket layer treats pings, junk and oversized frames.
#include "transport/wss/wss_transport.hpp"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "crypto/secret.hpp"
#include "echo_server.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/wss/websocket_frame.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "util/coro.hpp"
#include "util/encoding.hpp"

namespace samizdat::transport {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
namespace fs = std::filesystem;

// A wss (or ws, behind a proxy) listener on the secret path "/s3cret-path".
EchoServerOptions websocket_server(bool tls) {
  EchoServerOptions options;
  options.scheme = tls ? "wss" : "ws";
  options.path = "/s3cret-path";
  options.handshake_timeout = 3s;
  if (tls) options.certificate_name = "hidden.example";
  return options;
}

// Dials, sends `count` frames of `size` bytes, and checks each echo. Returns the error text or "".
std::string dial_and_echo(Transport& transport, Endpoint endpoint, int count, std::size_t size) {
  return run<std::string>([&](asio::any_io_executor executor) -> asio::awaitable<std::string> {
    DialOptions options;
    options.timeout = 5s;
    auto stream = co_await transport.dial(executor, endpoint, options);
    if (!stream.ok()) co_return stream.error().describe();
    for (int i = 0; i < count; ++i) {
      Bytes payload(size, static_cast<std::uint8_t>(i));
      ByteView view = payload;
      auto sent = co_await (*stream)->write_frame(view);
      if (!sent.ok()) co_return sent.error().describe();
      auto echoed = co_await (*stream)->read_frame();
      if (!echoed.ok()) co_return echoed.error().describe();
      if (*echoed != payload) co_return "echo differs";
    }
    co_return "";
  });
}

// The first HTTP response to `request` (head and Content-Length body), without waiting
// for a keep-alive connection to close.
std::string first_response(const Endpoint& endpoint, std::string_view request) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address(endpoint.host), endpoint.port});
  asio::write(socket, asio::buffer(request.data(), request.size()));
  std::string received;
  std::array<char, 4096> buffer{};
  for (;;) {
    auto end = received.find("\r\n\r\n");
    if (end != std::string::npos) {
      auto length_at = received.find("Content-Length: ");
      std::size_t length = length_at < end ? std::stoul(received.substr(length_at + 16)) : 0;
      if (received.size() >= end + 4 + length) return received.substr(0, end + 4 + length);
    }
    std::error_code ec;
    auto n = socket.read_some(asio::buffer(buffer), ec);
    received.append(buffer.data(), n);
    if (ec) return received;
  }
}

std::string without_date(std::string response) {
  auto start = response.find("Date: ");
  if (start != std::string::npos) response.erase(start, response.find("\r\n", start) - start);
  return response;
}

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: hidden.example\r\n" + std::string(extra) +
         "Connection: close\r\n\r\n";
}

std::string upgrade_request(std::string_view path) {
  ws::UpgradeRequest request{std::string(path), "hidden.example", "https://hidden.example",
                             "dGhlIHNhbXBsZSBub25jZQ=="};
  return ws::format_upgrade_request(request);
}

TEST(WssTransport, DialsOverTlsAndEchoesFrames) {
  EchoServer server(websocket_server(true));
  auto endpoint = server.endpoint();
  endpoint.sni = "front.example";
  endpoint.host_header = "hidden.example";
  EXPECT_EQ(dial_and_echo(server.transport(), endpoint, 50, 16 * 1024), "");
  EXPECT_EQ(dial_and_echo(server.transport(), endpoint, 200, 10), "");
  EXPECT_EQ(server.stats().accepted.load(), 2u);
}

TEST(WssTransport, DialsWithoutTlsBehindAProxyAndEchoesFrames) {
  EchoServer server(websocket_server(false));
  EXPECT_EQ(dial_and_echo(server.transport(), server.endpoint(), 20, 1000), "");
}

TEST(WssTransport, AWrongPskInsideTheWebSocketIsClosedLikeJunk) {
  EchoServer server(websocket_server(true));
  auto endpoint = server.endpoint();
  endpoint.psk[0] ^= 1;
  auto error = dial_and_echo(server.transport(), endpoint, 1, 10);
  EXPECT_NE(error.find("closed the connection during the handshake"), std::string::npos) << error;
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(WssTransport, AWrongPathIsAnsweredByTheCoverSite) {
  EchoServer server(websocket_server(true));
  auto endpoint = server.endpoint();
  endpoint.path = "/guess";
  auto error = dial_and_echo(server.transport(), endpoint, 1, 10);
  EXPECT_NE(error.find("404"), std::string::npos) << error;
}

TEST(WssTransport, TheSecretPathWithoutAnUpgradeLooksLikeAnyMissingPage) {
  EchoServer server(websocket_server(false));
  auto secret =
      without_date(std::string(as_chars(exchange_raw(server.endpoint(), as_bytes(get("/s3cret-path"))))));
  auto other =
      without_date(std::string(as_chars(exchange_raw(server.endpoint(), as_bytes(get("/s3cret-patH"))))));
  EXPECT_EQ(secret.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << secret;
  EXPECT_EQ(secret, other);
  // A wrong WebSocket version on the secret path: the same 404.
  std::string bad_version = upgrade_request("/s3cret-path");
  bad_version.replace(bad_version.find("Version: 13"), 11, "Version: 12");
  auto versioned = without_date(first_response(server.endpoint(), bad_version));
  EXPECT_EQ(versioned.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << versioned;
  // The site root is the welcome page; junk gets a 400.
  auto root = std::string(as_chars(exchange_raw(server.endpoint(), as_bytes(get("/")))));
  EXPECT_EQ(root.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << root;
  auto junk = std::string(as_chars(exchange_raw(server.endpoint(), as_bytes("\x16\x03\x01 junk\r\n\r\n"))));
  EXPECT_EQ(junk.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << junk;
}

TEST(WssTransport, ServesTheCoverSiteOverTlsToAnHttpsVisitor) {
  EchoServer server(websocket_server(true));
  auto response = run<std::string>([&](asio::any_io_executor executor) -> asio::awaitable<std::string> {
    tcp::socket socket(executor);
    auto endpoint = server.endpoint();
    socket.connect({asio::ip::make_address(endpoint.host), endpoint.port});
    auto context = https::make_client_context();
    https::TlsByteStream tls(std::move(socket), *context);
    auto handshake = co_await tls.client_handshake("hidden.example");
    if (!handshake.ok()) co_return handshake.error().describe();
    std::string request = get("/");
    ByteView bytes = as_bytes(request);
    auto sent = co_await tls.write(bytes);
    if (!sent.ok()) co_return sent.error().describe();
    std::string out;
    std::array<std::uint8_t, 4096> buffer{};
    for (;;) {
      std::span<std::uint8_t> span(buffer);
      auto n = co_await tls.read_some(span);
      if (!n.ok()) break;
      out.append(reinterpret_cast<const char*>(buffer.data()), *n);
    }
    co_return out;
  });
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Welcome to nginx"), std::string::npos);
}

TEST(WssTransport, AnswersAPingAfterTheUpgradeWithAPong) {
  EchoServer server(websocket_server(false));
  Bytes wire = to_bytes(upgrade_request("/s3cret-path"));
  const std::uint8_t mask[4] = {1, 2, 3, 4};
  ws::append_frame(wire, ws::Opcode::ping, true, as_bytes("are you there"), mask);
  auto expected_head = "HTTP/1.1 101 Switching Protocols\r\n";
  Bytes pong;
  ws::append_frame(pong, ws::Opcode::pong, true, as_bytes("are you there"),
                   static_cast<const std::uint8_t*>(nullptr));
  // Read exactly the 101 head plus the pong.
  std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  auto reply = exchange_raw(server.endpoint(), wire, head.size() + pong.size());
  std::string text(as_chars(reply));
  EXPECT_EQ(text.rfind(expected_head, 0), 0u) << text;
  ASSERT_EQ(reply.size(), head.size() + pong.size()) << text;
  EXPECT_EQ(text.substr(0, head.size()), head);
  EXPECT_EQ(Bytes(reply.begin() + static_cast<std::ptrdiff_t>(head.size()), reply.end()), pong);
}

TEST(WssTransport, AnOversizedFrameAfterTheUpgradeGetsClose1009) {
  EchoServer server(websocket_server(false));
  Bytes wire = to_bytes(upgrade_request("/s3cret-path"));
  // The header of a masked 2 MiB binary frame, with no payload.
  const std::uint8_t header[] = {0x82, 0xFF, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 2, 3, 4};
  wire.insert(wire.end(), std::begin(header), std::end(header));
  auto reply = exchange_raw(server.endpoint(), wire);
  std::string text(as_chars(reply));
  auto end = text.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << text;
  Bytes close_frame(reply.begin() + static_cast<std::ptrdiff_t>(end + 4), reply.end());
  ws::MessageDecoder decoder(false, 1 << 20);
  decoder.feed(close_frame);
  auto message = decoder.next();
  ASSERT_TRUE(message.ok() && message->has_value());
  EXPECT_EQ((*message)->opcode, ws::Opcode::close);
  EXPECT_EQ(ws::parse_close_payload((*message)->payload)->code, ws::kCloseTooBig);
}

TEST(WssTransport, JunkInsideTheWebSocketIsClosed) {
  EchoServer server(websocket_server(false));
  Bytes wire = to_bytes(upgrade_request("/s3cret-path"));
  auto junk = crypto::random_bytes(300);
  ws::append_frame(wire, ws::Opcode::binary, true, junk, true);
  auto reply = exchange_raw(server.endpoint(), wire);  // returns once the server closes
  std::string text(as_chars(reply));
  EXPECT_EQ(text.rfind("HTTP/1.1 101", 0), 0u);
  // Nothing but the 101 head came back.
  EXPECT_EQ(text.find("\r\n\r\n") + 4, text.size());
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

}  // namespace
}  // namespace samizdat::transport
