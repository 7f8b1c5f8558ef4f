// Shared by the obfs tests: an obfs listener on 127.0.0.1:0 whose authenticated streams
// echo frames, and a helper that runs one client coroutine.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "crypto/secret.hpp"
#include "transport/transport.hpp"
#include "util/coro.hpp"

namespace samizdat::transport::obfs_test {

class ObfsEchoServer {
 public:
  explicit ObfsEchoServer(std::string shaping = "",
                          std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10)) {
    crypto::ensure_initialized();
    key_ = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    Endpoint bind;
    bind.scheme = "obfs";
    bind.host = "127.0.0.1";
    bind.shaping = std::move(shaping);
    crypto::fill_random(bind.psk);
    ListenOptions options;
    options.server_static = key_;
    options.handshake_timeout = handshake_timeout;
    auto listener = listen(io_.get_executor(), bind, std::move(options));
    if (!listener.ok()) throw std::runtime_error(listener.error().describe());
    listener_ = std::move(*listener);
    listener_->start([this](std::unique_ptr<FrameStream> stream) {
      {
        std::lock_guard lock(mutex_);
        peers_.push_back(stream->peer_static());
      }
      auto executor = stream->get_executor();
      asio::co_spawn(executor, echo(std::move(stream)), samizdat::log_escape("obfs_test_support: echo"));
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ObfsEchoServer() {
    listener_->close();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  const Endpoint& endpoint() const { return listener_->local_endpoint(); }
  const ListenerStats& stats() const { return listener_->stats(); }
  std::vector<std::optional<crypto::X25519Public>> peers() {
    std::lock_guard lock(mutex_);
    return peers_;
  }

 private:
  static asio::awaitable<void> echo(std::unique_ptr<FrameStream> stream) {
    for (;;) {
      auto frame = co_await stream->read_frame();
      if (!frame.ok()) co_return;
      auto written = co_await stream->write_frame(*frame);
      if (!written.ok()) co_return;
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<crypto::X25519KeyPair> key_;
  std::unique_ptr<Listener> listener_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::optional<crypto::X25519Public>> peers_;
};

template <class T>
T run(std::function<asio::awaitable<T>(asio::any_io_executor)> body) {
  asio::io_context io;
  auto future = asio::co_spawn(io, body(io.get_executor()), asio::use_future);
  io.run();
  return future.get();
}

// Dials, sends each payload and checks it comes back; returns the first error.
inline Status echo_round_trip(const Endpoint& endpoint, std::shared_ptr<const crypto::X25519KeyPair> client,
                              std::vector<Bytes> payloads,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return run<Status>([&](asio::any_io_executor executor) -> asio::awaitable<Status> {
    DialOptions options;
    options.client_static = client;
    options.timeout = timeout;
    auto stream = co_await dial(executor, endpoint, options);
    if (!stream.ok()) co_return std::move(stream).error();
    for (const auto& payload : payloads) {
      auto written = co_await (*stream)->write_frame(payload);
      if (!written.ok()) co_return written;
      auto back = co_await (*stream)->read_frame();
      if (!back.ok()) co_return std::move(back).error();
      if (*back != payload) co_return make_error(Errc::internal, "echo differs");
    }
    (*stream)->close();
    co_return Status{};
  });
}

}  // namespace samizdat::transport::obfs_test
