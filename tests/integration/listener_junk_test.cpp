// Junk and oversized input to samizdatd's listener: the offending connection is closed
// and everyone else keeps being served.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <random>

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

class ListenerJunkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_ / "server");
    server_->start();
    alice_ = make_client(io_, tmp_ / "alice", server_->bootstrap());
    bob_ = make_client(io_, tmp_ / "bob", server_->bootstrap());
    ASSERT_TRUE(alice_ && bob_);
    ASSERT_TRUE(alice_->add_contact("bob", bob_->invite().to_string()).ok());
  }

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

  TempDir tmp_;
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::Client> alice_;
  std::unique_ptr<client::Client> bob_;
};

TEST_F(ListenerJunkTest, JunkBeforeTheHandshakeIsClosedAndOthersAreServed) {
  std::mt19937 rng(12345);
  for (std::size_t size : {1u, 2u, 64u, 1500u, 70000u}) {
    Bytes junk(size);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    if (size >= 2) junk[0] = 0x01;  // a plausible handshake length, so the body is read too
    EXPECT_TRUE(server_closes_after(server_->port(), junk, 15s) || size < 2) << size << " junk bytes";
  }
  // A length prefix larger than any handshake.
  EXPECT_TRUE(server_closes_after(server_->port(), Bytes{0xff, 0xff, 1, 2, 3}, 15s));
  expect_service_still_works("after the junk");
}

TEST_F(ListenerJunkTest, GarbageAndOversizedMessagesAfterTheHandshakeCloseOnlyThatConnection) {
  auto endpoint = alice_->network().endpoints.front();
  auto outcome = run_on(io_, [&]() -> asio::awaitable<Result<Bytes>> {
    // An authenticated-transport connection (anonymous) that speaks garbage.
    asio::any_io_executor executor = io_.get_executor();
    transport::DialOptions options;
    auto stream = co_await transport::dial(executor, endpoint, std::move(options));
    if (!stream.ok()) co_return std::move(stream).error();
    transport::MessageChannel channel(**stream, 1 << 20);
    Bytes garbage = to_bytes("\xff\xff\xff\xff this is no ClientMessage");
    auto sent = co_await channel.write_message(garbage);
    if (!sent.ok()) co_return sent.error();
    co_return co_await channel.read_message();
  }());
  EXPECT_FALSE(outcome.ok()) << "the server answered garbage instead of closing";

  auto oversized = run_on(io_, [&]() -> asio::awaitable<Result<Bytes>> {
    asio::any_io_executor executor = io_.get_executor();
    transport::DialOptions options;
    auto stream = co_await transport::dial(executor, endpoint, std::move(options));
    if (!stream.ok()) co_return std::move(stream).error();
    transport::MessageChannel channel(**stream, 1 << 20);
    wire::ClientMessage send;
    send.set_request_id(1);
    auto* envelope = send.mutable_send_envelopes()->add_envelopes();
    envelope->set_mailbox(std::string(32, 'm'));
    envelope->set_ciphertext(std::string(4 << 20, 'x'));  // far beyond any limit
    Bytes bytes(send.ByteSizeLong());
    send.SerializeToArray(bytes.data(), static_cast<int>(bytes.size()));
    (void)co_await channel.write_message(bytes);
    co_return co_await channel.read_message();
  }());
  if (oversized.ok()) {
    // Answering with an error instead of closing is fine too, as long as it is refused.
    auto reply = wire::ServerMessage();
    ASSERT_TRUE(reply.ParseFromArray(oversized->data(), static_cast<int>(oversized->size())));
    EXPECT_TRUE(reply.has_error());
  }
  expect_service_still_works("after the garbage");
}

}  // namespace
}  // namespace samizdat::integration
