// The Noise handshake and frame codec over a generic ByteStream (here TCP sockets on
// 127.0.0.1): the same behaviour as the tcp transport, whatever the pipe.
#include "transport/noise/noise_over_stream.hpp"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

#include "crypto/secret.hpp"
#include "transport/noise/noise_handshake.hpp"
#include "transport/socket/replay_cache.hpp"
#include "transport/stream/byte_stream.hpp"

namespace samizdat::transport {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

template <typename T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result.emplace(std::move(value));
  });
  io.restart();
  io.run_for(20s);
  if (!result) throw std::runtime_error("the test coroutine did not finish");
  return std::move(*result);
}

struct Pair {
  std::unique_ptr<TcpByteStream> client;
  std::unique_ptr<TcpByteStream> server;
};

asio::awaitable<Pair> connected_pair() {
  auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(executor);
  co_await client.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
  auto server = co_await acceptor.async_accept(asio::use_awaitable);
  co_return Pair{std::make_unique<TcpByteStream>(std::move(client)),
                 std::make_unique<TcpByteStream>(std::move(server))};
}

class StreamNoiseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::ensure_initialized();
    server_key = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    endpoint.scheme = "tcp";
    endpoint.host = "127.0.0.1";
    endpoint.port = 1;
    endpoint.server_static = server_key->public_key;
    crypto::fill_random(endpoint.psk);
    params.server_static = server_key;
    params.psk = endpoint.psk;
    params.replays = &replays;
    params.timeout = 5s;
  }

  struct Both {
    Result<std::unique_ptr<FrameStream>> client = make_error(Errc::internal, "not run");
    Result<std::unique_ptr<FrameStream>> server = make_error(Errc::internal, "not run");
  };

  // Runs both handshakes concurrently over a fresh socket pair.
  Both handshake(const DialOptions& options) {
    return run(io, [&]() -> asio::awaitable<Both> {
      using namespace asio::experimental::awaitable_operators;
      auto pair = co_await connected_pair();
      auto server_task = server_handshake_over(std::move(pair.server), params);
      auto client_task =
          client_handshake_over(std::move(pair.client), endpoint, options, deadline_after(options.timeout));
      auto [server, client] = co_await (std::move(server_task) && std::move(client_task));
      Both both;
      both.client = std::move(client);
      both.server = std::move(server);
      co_return both;
    }());
  }

  asio::io_context io;
  std::shared_ptr<crypto::X25519KeyPair> server_key;
  Endpoint endpoint;
  ReplayCache replays;
  ServerHandshakeParams params;
};

TEST_F(StreamNoiseTest, DeviceKeyHandshakeAuthenticatesBothSidesAndCarriesFramesBothWays) {
  DialOptions options;
  options.client_static = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  params.padding = wire::PaddingPolicy::uniform(300);
  auto both = handshake(options);
  ASSERT_TRUE(both.client.ok()) << both.client.error().describe();
  ASSERT_TRUE(both.server.ok()) << both.server.error().describe();
  auto& client = *both.client;
  auto& server = *both.server;
  ASSERT_TRUE(server->peer_static().has_value());
  EXPECT_EQ(*server->peer_static(), options.client_static->public_key);
  EXPECT_EQ(*client->peer_static(), server_key->public_key);
  EXPECT_EQ(to_bytes(client->handshake_hash()), to_bytes(server->handshake_hash()));
  EXPECT_EQ(server->peer_description().rfind("127.0.0.1:", 0), 0u);

  auto ok = run(io, [&]() -> asio::awaitable<bool> {
    // Many frames, some large, in order in both directions.
    for (int i = 0; i < 50; ++i) {
      Bytes payload(static_cast<std::size_t>(i) * 300 + 1, static_cast<std::uint8_t>(i));
      auto sent = client->send_frame(payload);
      if (!sent.ok()) co_return false;
    }
    auto flushed = co_await client->flush();
    if (!flushed.ok()) co_return false;
    for (int i = 0; i < 50; ++i) {
      auto frame = co_await server->read_frame();
      if (!frame.ok() || frame->size() != static_cast<std::size_t>(i) * 300 + 1) co_return false;
      if ((*frame)[0] != static_cast<std::uint8_t>(i)) co_return false;
      ByteView echo = *frame;
      auto written = co_await server->write_frame(echo);
      if (!written.ok()) co_return false;
      auto back = co_await client->read_frame();
      if (!back.ok() || *back != *frame) co_return false;
    }
    co_return true;
  }());
  EXPECT_TRUE(ok);
}

TEST_F(StreamNoiseTest, AnonymousHandshakeGivesTheServerNoClientKey) {
  DialOptions options;
  auto both = handshake(options);
  ASSERT_TRUE(both.client.ok()) << both.client.error().describe();
  ASSERT_TRUE(both.server.ok()) << both.server.error().describe();
  EXPECT_FALSE((*both.server)->peer_static().has_value());
}

TEST_F(StreamNoiseTest, WrongPskIsRejectedWithoutAReply) {
  params.psk[0] ^= 1;
  DialOptions options;
  auto both = handshake(options);
  ASSERT_FALSE(both.server.ok());
  EXPECT_EQ(both.server.error().code, Errc::auth_failed);
  ASSERT_FALSE(both.client.ok());
  EXPECT_EQ(both.client.error().code, Errc::network) << both.client.error().describe();
}

TEST_F(StreamNoiseTest, ReplayedClientHelloIsRejected) {
  auto result = run(io, [&]() -> asio::awaitable<std::pair<Status, Status>> {
    auto hello = start_client_hello(endpoint.server_static, endpoint.psk, nullptr);
    std::pair<Status, Status> out;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto pair = co_await connected_pair();
      ByteView bytes = hello->hello;
      auto sent = co_await pair.client->write(bytes);
      if (!sent.ok()) co_return out;
      auto server = co_await server_handshake_over(std::move(pair.server), params);
      Status status = server.ok() ? Status{} : Status(std::move(server).error());
      (attempt == 0 ? out.first : out.second) = std::move(status);
    }
    co_return out;
  }());
  EXPECT_TRUE(result.first.ok()) << result.first.error().describe();
  ASSERT_FALSE(result.second.ok());
  EXPECT_EQ(result.second.error().code, Errc::replay);
}

TEST_F(StreamNoiseTest, SilentClientTimesOutAndIsClosed) {
  params.timeout = 200ms;
  auto result = run(io, [&]() -> asio::awaitable<std::pair<Status, Status>> {
    auto pair = co_await connected_pair();
    auto server = co_await server_handshake_over(std::move(pair.server), params);
    std::array<std::uint8_t, 16> buffer{};
    std::span<std::uint8_t> span(buffer);
    auto read = co_await pair.client->read_some(span);  // the server closed: EOF
    co_return std::pair<Status, Status>{server.ok() ? Status{} : Status(std::move(server).error()),
                                        read.ok() ? Status{} : Status(std::move(read).error())};
  }());
  ASSERT_FALSE(result.first.ok());
  EXPECT_EQ(result.first.error().code, Errc::timeout) << result.first.error().describe();
  ASSERT_FALSE(result.second.ok());
  EXPECT_EQ(result.second.error().code, Errc::network);
}

TEST_F(StreamNoiseTest, JunkIsRejectedAsMalformedOrUnauthenticated) {
  auto result = run(io, [&]() -> asio::awaitable<Status> {
    auto pair = co_await connected_pair();
    Bytes junk = crypto::random_bytes(300);
    junk[0] = 0;
    junk[1] = 200;
    ByteView bytes = junk;
    auto sent = co_await pair.client->write(bytes);
    if (!sent.ok()) co_return std::move(sent).error();
    auto server = co_await server_handshake_over(std::move(pair.server), params);
    co_return server.ok() ? Status{} : Status(std::move(server).error());
  }());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::auth_failed);
}

TEST_F(StreamNoiseTest, PrefixedStreamReplaysBytesAlreadyReadBeforeTheSocket) {
  // The server read the first 5 handshake bytes earlier (as an HTTP parser reading past a
  // request head would); the handshake still completes.
  DialOptions options;
  auto both = run(io, [&]() -> asio::awaitable<Both> {
    using namespace asio::experimental::awaitable_operators;
    auto pair = co_await connected_pair();
    auto hello = start_client_hello(endpoint.server_static, endpoint.psk, nullptr);
    ByteView bytes = hello->hello;
    auto sent = co_await pair.client->write(bytes);
    Bytes prefix(5);
    std::span<std::uint8_t> prefix_span(prefix);
    auto got = co_await read_exact(*pair.server, prefix_span);
    Both out;
    if (!sent.ok() || !got.ok()) co_return out;
    auto prefixed = std::make_unique<PrefixedByteStream>(std::move(prefix), std::move(pair.server));
    out.server = co_await server_handshake_over(std::move(prefixed), params);
    co_return out;
  }());
  EXPECT_TRUE(both.server.ok()) << both.server.error().describe();
}

TEST_F(StreamNoiseTest, CloseEndsAPendingReadAndLaterSendsFail) {
  DialOptions options;
  auto both = handshake(options);
  ASSERT_TRUE(both.client.ok());
  ASSERT_TRUE(both.server.ok());
  auto& client = *both.client;
  auto& server = *both.server;
  auto results = run(io, [&]() -> asio::awaitable<std::pair<Errc, Errc>> {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer later(co_await asio::this_coro::executor, 50ms);
    auto closer = [&]() -> asio::awaitable<void> {
      co_await later.async_wait(asio::use_awaitable);
      server->close();
    };
    auto [client_read, server_read] = co_await (client->read_frame() && (server->read_frame() && closer()));
    Errc server_code = server_read.ok() ? Errc::internal : server_read.error().code;
    Errc client_code = client_read.ok() ? Errc::internal : client_read.error().code;
    co_return std::pair<Errc, Errc>{server_code, client_code};
  }());
  EXPECT_EQ(results.first, Errc::unavailable);
  EXPECT_EQ(results.second, Errc::network);  // the peer's socket closed
  Bytes payload{1, 2, 3};
  EXPECT_FALSE(server->send_frame(payload).ok());
}

}  // namespace
}  // namespace samizdat::transport
