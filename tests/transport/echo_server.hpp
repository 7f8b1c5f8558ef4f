// Shared by the transport tests: a listener of any registered transport on 127.0.0.1:0,
// on its own thread, whose authenticated streams echo every frame; a helper that runs one
// client coroutine; and a dial-and-echo round trip.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "crypto/secret.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/transport.hpp"
#include "util/coro.hpp"
#include "util/encoding.hpp"

namespace samizdat::transport {

struct EchoServerOptions {
  std::string scheme = "tcp";
  std::string path;     // wss/ws: the secret path
  std::string shaping;  // obfs: the first-packet shaping mode ("" = default)
  std::chrono::milliseconds handshake_timeout{10'000};
  // tls/wss: a self-signed certificate for this name is made for the listener.
  std::string certificate_name;
  std::filesystem::path cover_site;  // empty: the default page
};

class EchoServer {
 public:
  explicit EchoServer(EchoServerOptions options = {}) {
    crypto::ensure_initialized();
    key_ = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    transport_ = *TransportRegistry::default_registry().find(options.scheme);
    Endpoint bind;
    bind.scheme = options.scheme;
    bind.host = "127.0.0.1";
    bind.path = options.path;
    bind.shaping = options.shaping;
    crypto::fill_random(bind.psk);
    ListenOptions listen_options;
    listen_options.server_static = key_;
    listen_options.handshake_timeout = options.handshake_timeout;
    listen_options.cover_site = options.cover_site;
    if (!options.certificate_name.empty()) {
      dir_ =
          std::filesystem::temp_directory_path() / ("sz-echo-server-" + hex_encode(crypto::random_bytes(6)));
      std::filesystem::create_directories(dir_);
      listen_options.tls_certificate = dir_ / "tls.crt";
      listen_options.tls_private_key = dir_ / "tls.key";
      auto written = https::write_self_signed_certificate(
          listen_options.tls_certificate, listen_options.tls_private_key, options.certificate_name);
      if (!written.ok()) throw std::runtime_error(written.error().describe());
    }
    auto listener = transport_->listen(io_.get_executor(), bind, std::move(listen_options));
    if (!listener.ok()) throw std::runtime_error(listener.error().describe());
    listener_ = std::move(*listener);
    listener_->start([this](std::unique_ptr<FrameStream> stream) {
      {
        std::lock_guard lock(mutex_);
        peers_.push_back(stream->peer_static());
        hashes_.push_back(to_bytes(stream->handshake_hash()));
      }
      auto executor = stream->get_executor();
      asio::co_spawn(executor, echo(std::move(stream)), samizdat::log_escape("echo_server: echo"));
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    listener_->close();
    work_.reset();
    io_.stop();
    thread_.join();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  Transport& transport() { return *transport_; }
  const Endpoint& endpoint() const { return listener_->local_endpoint(); }
  const ListenerStats& stats() const { return listener_->stats(); }
  // The peer key of each authenticated stream, in order (nullopt for anonymous ones).
  std::vector<std::optional<crypto::X25519Public>> peers() {
    std::lock_guard lock(mutex_);
    return peers_;
  }
  std::vector<Bytes> hashes() {
    std::lock_guard lock(mutex_);
    return hashes_;
  }

 private:
  static asio::awaitable<void> echo(std::unique_ptr<FrameStream> stream) {
    for (;;) {
      auto frame = co_await stream->read_frame();
      if (!frame.ok()) co_return;
      ByteView payload = *frame;
      auto written = co_await stream->write_frame(payload);
      if (!written.ok()) co_return;
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::filesystem::path dir_;
  std::shared_ptr<crypto::X25519KeyPair> key_;
  std::shared_ptr<Transport> transport_;
  std::unique_ptr<Listener> listener_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::optional<crypto::X25519Public>> peers_;
  std::vector<Bytes> hashes_;
};

// Runs one client coroutine to completion on a fresh io_context (at most a minute).
template <class T>
T run(std::function<asio::awaitable<T>(asio::any_io_executor)> body) {
  asio::io_context io;
  auto future = asio::co_spawn(io, body(io.get_executor()), asio::use_future);
  io.run_for(std::chrono::seconds(60));
  return future.get();
}

// Sends raw bytes on a plain TCP connection and returns what came back until the server
// closed (or reset) it or `stop_after` bytes arrived.
inline Bytes exchange_raw(const Endpoint& endpoint, ByteView bytes, std::size_t stop_after = SIZE_MAX) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address(endpoint.host), endpoint.port});
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()));
  Bytes received;
  std::array<std::uint8_t, 4096> buffer{};
  while (received.size() < stop_after) {
    std::error_code ec;
    auto n = socket.read_some(asio::buffer(buffer), ec);
    received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    if (ec) break;  // eof or reset: the server closed
  }
  return received;
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

}  // namespace samizdat::transport
