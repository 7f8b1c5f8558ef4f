// The tcp transport over real sockets on 127.0.0.1: handshakes, frames, and how the
// listener treats anything that does not authenticate.
#include "transport/tcp/tcp_transport.hpp"

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
#include <future>
#include <mutex>
#include <thread>

#include "crypto/secret.hpp"
#include "echo_server.hpp"
#include "transport/message_channel.hpp"
#include "transport/noise/noise_handshake.hpp"
#include "transport/transport.hpp"
#include "util/coro.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::transport {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

TEST(TcpTransport, IkHandshakeAuthenticatesTheDeviceKeyAndCarriesFramesBothWays) {
  EchoServer server;
  auto device = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  auto endpoint = server.endpoint();
  auto client_hash = run<Bytes>([&](asio::any_io_executor ex) -> asio::awaitable<Bytes> {
    DialOptions options;
    options.client_static = device;
    auto stream = co_await dial(ex, endpoint, options);
    EXPECT_TRUE(stream.ok()) << stream.error().describe();
    if (!stream.ok()) co_return Bytes{};
    EXPECT_EQ((*stream)->peer_static(), endpoint.server_static);
    for (std::size_t size : {0u, 1u, 100u, 5000u, 16u * 1024u}) {
      // (crypto::random_bytes(0) passes a null pointer to libsodium: UBSan flags it.)
      Bytes payload = size == 0 ? Bytes{} : crypto::random_bytes(size);
      auto written = co_await (*stream)->write_frame(payload);
      EXPECT_TRUE(written.ok());
      auto echoed = co_await (*stream)->read_frame();
      EXPECT_TRUE(echoed.ok());
      if (echoed.ok()) EXPECT_EQ(*echoed, payload) << size;
    }
    co_return to_bytes((*stream)->handshake_hash());
  });
  auto peers = server.peers();
  ASSERT_EQ(peers.size(), 1u);
  ASSERT_TRUE(peers[0].has_value());
  EXPECT_EQ(*peers[0], device->public_key);
  EXPECT_EQ(server.hashes()[0], client_hash);
  EXPECT_EQ(client_hash.size(), 64u);
}

TEST(TcpTransport, NkHandshakeKeepsTheClientAnonymous) {
  EchoServer server;
  auto endpoint = server.endpoint();
  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, endpoint, anonymous);
    if (!stream.ok()) co_return false;
    auto written = co_await (*stream)->write_frame(as_bytes("hello"));
    auto echoed = co_await (*stream)->read_frame();
    co_return written.ok() && echoed.ok() && *echoed == to_bytes("hello");
  });
  EXPECT_TRUE(ok);
  auto peers = server.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_FALSE(peers[0].has_value());
}

TEST(TcpTransport, ManyQueuedFramesArriveInOrder) {
  EchoServer server;
  auto endpoint = server.endpoint();
  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, endpoint, anonymous);
    if (!stream.ok()) co_return false;
    for (std::uint32_t i = 0; i < 500; ++i) {
      Bytes payload(4);
      put_u32_be(payload.data(), i);
      if (!(*stream)->send_frame(payload).ok()) co_return false;
    }
    for (std::uint32_t i = 0; i < 500; ++i) {
      auto frame = co_await (*stream)->read_frame();
      if (!frame.ok() || frame->size() != 4 || get_u32_be(frame->data()) != i) co_return false;
    }
    co_return true;
  });
  EXPECT_TRUE(ok);
}

TEST(TcpTransport, MessagesLargerThanOneFrameArriveWhole) {
  EchoServer server;  // echoes frame by frame, which preserves the fragments
  auto endpoint = server.endpoint();
  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, endpoint, anonymous);
    if (!stream.ok()) co_return false;
    MessageChannel channel(**stream, 1 << 20);
    Bytes big = crypto::random_bytes(100'000);
    if (!(co_await channel.write_message(big)).ok()) co_return false;
    if (!(co_await channel.write_message(as_bytes("small"))).ok()) co_return false;
    auto first = co_await channel.read_message();
    auto second = co_await channel.read_message();
    co_return first.ok() && *first == big&& second.ok() && *second == to_bytes("small");
  });
  EXPECT_TRUE(ok);
}

TEST(TcpTransport, WrongPskIsClosedWithoutAnyResponse) {
  EchoServer server;
  auto endpoint = server.endpoint();
  Psk wrong = endpoint.psk;
  wrong[0] ^= 1;
  auto hello = start_client_hello(endpoint.server_static, wrong, nullptr);
  ASSERT_TRUE(hello.ok());
  EXPECT_TRUE(exchange_raw(endpoint, hello->hello).empty());

  auto bad = endpoint;
  bad.psk = wrong;
  auto error = run<Errc>([&](asio::any_io_executor ex) -> asio::awaitable<Errc> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, bad, anonymous);
    co_return stream.ok() ? Errc::internal : stream.error().code;
  });
  EXPECT_EQ(error, Errc::network);
  EXPECT_GE(server.stats().rejected.load(), 2u);
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(TcpTransport, WrongServerKeyIsClosedWithoutAnyResponse) {
  EchoServer server;
  auto endpoint = server.endpoint();
  auto device = crypto::X25519KeyPair::generate();
  auto other = crypto::X25519KeyPair::generate();
  auto hello = start_client_hello(other.public_key, endpoint.psk, &device);
  ASSERT_TRUE(hello.ok());
  EXPECT_TRUE(exchange_raw(endpoint, hello->hello).empty());
  EXPECT_EQ(server.stats().rejected.load(), 1u);
}

TEST(TcpTransport, JunkOfAnyShapeIsRejectedTheSameWayAndOthersAreStillServed) {
  EchoServer server;
  auto endpoint = server.endpoint();
  std::vector<Bytes> junk = {
      crypto::random_bytes(300),   // random bytes
      Bytes{0xff, 0xff, 1, 2, 3},  // absurd length prefix
      Bytes{0x00, 0x00},           // zero length
      Bytes{0x00, 0x60},           // plausible length, then...
      to_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
  };
  auto valid = start_client_hello(endpoint.server_static, endpoint.psk, nullptr);
  ASSERT_TRUE(valid.ok());
  Bytes flipped = valid->hello;
  flipped[10] ^= 0x80;  // one bit of a real hello
  junk.push_back(flipped);
  junk[3].resize(2 + 0x60, 0xaa);
  for (const auto& bytes : junk) {
    EXPECT_TRUE(exchange_raw(endpoint, bytes).empty());
  }
  EXPECT_EQ(server.stats().rejected.load(), junk.size());
  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, endpoint, anonymous);
    co_return stream.ok();
  });
  EXPECT_TRUE(ok);
}

TEST(TcpTransport, ReplayedHandshakeIsTreatedLikeJunk) {
  EchoServer server;
  auto endpoint = server.endpoint();
  auto device = crypto::X25519KeyPair::generate();
  auto hello = start_client_hello(endpoint.server_static, endpoint.psk, &device);
  ASSERT_TRUE(hello.ok());
  EXPECT_FALSE(exchange_raw(endpoint, hello->hello, 1).empty());  // the real one is answered
  EXPECT_TRUE(exchange_raw(endpoint, hello->hello).empty());      // a replay is not
  EXPECT_EQ(server.stats().accepted.load(), 1u);
  EXPECT_EQ(server.stats().rejected.load(), 1u);
}

TEST(TcpTransport, TruncatedOrSilentHandshakeIsClosedWhenTheHandshakeTimeoutFires) {
  EchoServer server({.handshake_timeout = 300ms});
  auto endpoint = server.endpoint();
  auto hello = start_client_hello(endpoint.server_static, endpoint.psk, nullptr);
  ASSERT_TRUE(hello.ok());
  Bytes truncated(hello->hello.begin(), hello->hello.begin() + 20);
  for (const Bytes& input : {truncated, Bytes{}}) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(exchange_raw(endpoint, input).empty());
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 250ms);  // it waited for the rest of the handshake...
    EXPECT_LT(waited, 5s);     // ...and then gave up on its own
  }
  EXPECT_EQ(server.stats().rejected.load(), 2u);
}

TEST(TcpTransport, GarbageAfterTheHandshakeClosesOnlyThatStream) {
  EchoServer server;
  auto endpoint = server.endpoint();
  // Complete a real handshake by hand, then send bytes that are not a frame.
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address(endpoint.host), endpoint.port});
  auto hello = start_client_hello(endpoint.server_static, endpoint.psk, nullptr);
  ASSERT_TRUE(hello.ok());
  asio::write(socket, asio::buffer(hello->hello));
  std::array<std::uint8_t, 2> prefix{};
  asio::read(socket, asio::buffer(prefix));
  Bytes reply(get_u16_be(prefix.data()));
  asio::read(socket, asio::buffer(reply));
  ASSERT_TRUE(finish_client_handshake(*hello, reply).ok());
  // More than the largest frame, so the decoder has a whole "frame" to reject whatever
  // length the first two bytes unmask to.
  Bytes garbage = crypto::random_bytes(wire::kMaxFrameWireSize + 64);
  std::error_code ec;
  asio::write(socket, asio::buffer(garbage), ec);
  std::array<std::uint8_t, 16> buffer{};
  socket.read_some(asio::buffer(buffer), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();

  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, endpoint, anonymous);
    if (!stream.ok()) co_return false;
    auto written = co_await (*stream)->write_frame(as_bytes("still here"));
    auto echoed = co_await (*stream)->read_frame();
    co_return written.ok() && echoed.ok();
  });
  EXPECT_TRUE(ok);
}

TEST(TcpTransport, DialGivesUpWithTimeoutWhenTheServerNeverAnswers) {
  asio::io_context server_io;
  tcp::acceptor mute(server_io, {asio::ip::make_address("127.0.0.1"), 0});  // accepts (backlog), never speaks
  Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = mute.local_endpoint().port();
  endpoint.server_static = crypto::X25519KeyPair::generate().public_key;
  auto error = run<Errc>([&](asio::any_io_executor ex) -> asio::awaitable<Errc> {
    DialOptions options;
    options.timeout = 300ms;
    auto stream = co_await dial(ex, endpoint, options);
    co_return stream.ok() ? Errc::internal : stream.error().code;
  });
  EXPECT_EQ(error, Errc::timeout);
}

TEST(TcpTransport, DialToAClosedPortFailsWithANetworkError) {
  std::uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port;
  auto error = run<Error>([&](asio::any_io_executor ex) -> asio::awaitable<Error> {
    DialOptions anonymous;
    auto stream = co_await dial(ex, endpoint, anonymous);
    co_return stream.ok() ? Error{Errc::internal, ""} : stream.error();
  });
  EXPECT_EQ(error.code, Errc::network);
  EXPECT_NE(error.message.find("cannot connect"), std::string::npos) << error.message;
}

TEST(TcpTransport, ListeningOnAPortInUseSaysSo) {
  asio::io_context io;
  tcp::acceptor taken(io, {asio::ip::make_address("127.0.0.1"), 0});
  Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = taken.local_endpoint().port();
  ListenOptions options;
  options.server_static = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  auto listener = listen(io.get_executor(), endpoint, options);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code, Errc::network);
  EXPECT_NE(listener.error().message.find("in use"), std::string::npos) << listener.error().message;
}

}  // namespace
}  // namespace samizdat::transport
