// Junk and oversized input to samizdatd's listener: the offending connection is closed
// and everyone else keeps being served.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/steady_timer.hpp>
#include <random>
#include <thread>

#include "client/server_connection.hpp"
#include "crypto/secret.hpp"
#include "integration_support.hpp"
#include "transport/message_channel.hpp"
#include "transport/transport.hpp"

namespace samizdat::integration {
namespace {

// Sends `bytes` on a raw TCP connection and reports whether the server closed it
// (EOF or reset) within `within`.
bool server_closes_after(std::uint16_t port, const Bytes& bytes, std::chrono::seconds within) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  timeval tv{static_cast<time_t>(within.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buffer[256];
  bool closed = false;
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      closed = true;
      break;
    }
    if (n < 0) break;  // timed out: still open
  }
  ::close(fd);
  return closed;
}

class ListenerJunkTest : public TwoClientTest {
 protected:
  // A real conversation still works.
  void expect_service_still_works(const std::string& text) {
    ASSERT_TRUE(alice_->queue_text("bob", text).ok());
    auto flushed = run_on(io_, alice_->flush_outbox());
    ASSERT_TRUE(flushed.ok()) << flushed.error().describe();
    EXPECT_EQ(flushed->sent, 1u);
    bool seen = false;
    for (int round = 0; round < 10 && !seen; ++round) {
      auto synced = run_on(io_, bob_->sync(200ms));
      ASSERT_TRUE(synced.ok()) << synced.error().describe();
      for (const auto& m : synced->received) seen |= m.body == text;
    }
    EXPECT_TRUE(seen);
  }
};

TEST_F(ListenerJunkTest, JunkBeforeTheHandshakeIsClosedAndOthersAreServed) {
  // Probes in parallel: a listener may hold junk until its handshake timeout (so junk
  // looks the same whatever it is), and these should not add up.
  std::vector<Bytes> probes;
  std::mt19937 rng(12345);
  for (std::size_t size : {2u, 64u, 1500u, 70000u}) {
    Bytes junk(size);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    junk[0] = 0x01;  // a plausible handshake length, so the body is read too
    probes.push_back(std::move(junk));
  }
  probes.push_back(Bytes{0xff, 0xff, 1, 2, 3});  // a length prefix larger than any handshake
  std::vector<std::thread> threads;
  std::vector<int> closed(probes.size(), 0);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    threads.emplace_back(
        [&, i] { closed[i] = server_closes_after(server_->port(), probes[i], 20s) ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < probes.size(); ++i)
    EXPECT_EQ(closed[i], 1) << probes[i].size() << " junk bytes";
  expect_service_still_works("after the junk");
}

// Reads until the server closes the connection or says something; gives up (closing
// the stream itself) after 20 s, so a listener that just waits cannot hang the test.
asio::awaitable<Result<Bytes>> read_reply_bounded(transport::FrameStream& stream,
                                                  transport::MessageChannel& channel) {
  asio::steady_timer guard(stream.get_executor(), 20s);
  guard.async_wait([&stream](std::error_code ec) {
    if (!ec) stream.close();
  });
  auto reply = co_await channel.read_message();
  guard.cancel();
  co_return reply;
}

TEST_F(ListenerJunkTest, GarbageAndOversizedMessagesAfterTheHandshakeCloseOnlyThatConnection) {
  auto endpoint = alice_->network().endpoints.front();
  auto started = std::chrono::steady_clock::now();
  auto garbage = run_on(io_, [&]() -> asio::awaitable<Result<Bytes>> {
    // A connection that completes the (anonymous) handshake, then speaks garbage.
    asio::any_io_executor executor = io_.get_executor();
    transport::DialOptions options;
    auto stream = co_await transport::dial(executor, endpoint, std::move(options));
    if (!stream.ok()) co_return std::move(stream).error();
    transport::MessageChannel channel(**stream, 1 << 20);
    Bytes junk = to_bytes("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff this is no ClientMessage");
    auto sent = co_await channel.write_message(junk);
    if (!sent.ok()) co_return sent.error();
    co_return co_await read_reply_bounded(**stream, channel);
  }());
  if (garbage.ok()) {
    // Answering with an error instead of closing is fine too, as long as it is refused.
    wire::ServerMessage reply;
    ASSERT_TRUE(reply.ParseFromArray(garbage->data(), static_cast<int>(garbage->size())));
    EXPECT_TRUE(reply.has_error());
  }

  auto oversized = run_on(io_, [&]() -> asio::awaitable<Result<Bytes>> {
    asio::any_io_executor executor = io_.get_executor();
    transport::DialOptions options;
    auto stream = co_await transport::dial(executor, endpoint, std::move(options));
    if (!stream.ok()) co_return std::move(stream).error();
    transport::MessageChannel channel(**stream, 1 << 20);
    // One message of 2 MiB in fragments that never say "last": past any message limit.
    Bytes fragment((*stream)->max_payload(), 'x');
    fragment[0] = 0;  // not the last fragment
    for (std::size_t sent = 0; sent < (2u << 20) && (*stream)->is_open(); sent += fragment.size()) {
      auto written = co_await (*stream)->write_frame(fragment);
      if (!written.ok()) break;  // the server already closed: good
    }
    co_return co_await read_reply_bounded(**stream, channel);
  }());
  if (oversized.ok()) {
    wire::ServerMessage reply;
    ASSERT_TRUE(reply.ParseFromArray(oversized->data(), static_cast<int>(oversized->size())));
    EXPECT_TRUE(reply.has_error());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 19s) << "the server neither answered nor closed";
  expect_service_still_works("after the garbage");
}

}  // namespace
}  // namespace samizdat::integration
