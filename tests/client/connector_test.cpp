// The connector against a real tcp listener on 127.0.0.1: callers that want a connection
// while one is being dialled share that dial, its connection and its failure.
#include "client/connector.hpp"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <filesystem>

#include "crypto/secret.hpp"
#include "support/temp_dir.hpp"
#include "transport/transport.hpp"
#include "util/coro.hpp"

namespace samizdat::client {
namespace {

namespace fs = std::filesystem;

class ConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::ensure_initialized();
    home_ = temp_ / "home";
    auto store = AccountStore::create({home_, std::nullopt, Durability::normal});
    ASSERT_TRUE(store.ok()) << store.error().describe();
    store_ = std::move(*store);
    transport::Endpoint bind;
    bind.host = "127.0.0.1";
    crypto::fill_random(bind.psk);
    transport::ListenOptions options;
    options.server_static = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    auto listener = transport::listen(io_.get_executor(), bind, std::move(options));
    ASSERT_TRUE(listener.ok()) << listener.error().describe();
    listener_ = std::move(*listener);
    listener_->start(
        [this](std::unique_ptr<transport::FrameStream> s) { accepted_.push_back(std::move(s)); });
  }
  void TearDown() override {
    listener_->close();
    accepted_.clear();
  }

  // Two callers ask for the anonymous connection at once; returns both outcomes.
  std::pair<Result<ServerConnection*>, Result<ServerConnection*>> connect_twice_at_once(
      const transport::Endpoint& endpoint) {
    network_.endpoints = {endpoint};
    auto connector = Connector::load(io_.get_executor(), *store_, network_, nullptr, ConnectorOptions{});
    EXPECT_TRUE(connector.ok());
    Result<ServerConnection*> first = make_error(Errc::internal, "not run");
    Result<ServerConnection*> second = make_error(Errc::internal, "not run");
    int done = 0;
    for (auto* out : {&first, &second}) {
      asio::co_spawn(
          io_,
          [this, &connector, &done, out]() -> asio::awaitable<void> {
            *out = co_await (*connector)->connection(Via::anonymous);
            if (++done == 2) io_.stop();
          },
          log_escape("connector_test: a caller"));
    }
    io_.run_for(std::chrono::seconds(10));
    connector_ = std::move(*connector);  // the connection stays open for the asserts
    return {first, second};
  }

  asio::io_context io_;
  testing::TempDir temp_{"sz-connector"};
  fs::path home_;
  std::unique_ptr<AccountStore> store_;
  NetworkConfig network_;
  std::unique_ptr<transport::Listener> listener_;
  std::vector<std::unique_ptr<transport::FrameStream>> accepted_;
  std::unique_ptr<Connector> connector_;
};

TEST_F(ConnectorTest, CallersWaitingForTheSameConnectionShareOneDial) {
  auto [first, second] = connect_twice_at_once(listener_->local_endpoint());
  ASSERT_TRUE(first.ok()) << first.error().describe();
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(listener_->stats().accepted.load(), 1u);
  EXPECT_EQ(connector_->active_endpoints().size(), 1u);
}

TEST_F(ConnectorTest, CallersWaitingForTheSameConnectionShareItsFailure) {
  auto refused = listener_->local_endpoint();
  {
    asio::io_context scratch;
    asio::ip::tcp::acceptor closed(scratch, {asio::ip::make_address("127.0.0.1"), 0});
    refused.port = closed.local_endpoint().port();
  }  // nothing listens there any more: connections are refused
  auto [first, second] = connect_twice_at_once(refused);
  ASSERT_FALSE(first.ok());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(first.error().message, second.error().message);
  // One dial, so one failure learned about the endpoint, not one per caller.
  const auto* health = connector_->health().find(reach::HealthBook::key(refused));
  ASSERT_NE(health, nullptr);
  EXPECT_EQ(health->failures, 1u);
}

}  // namespace
}  // namespace samizdat::client
