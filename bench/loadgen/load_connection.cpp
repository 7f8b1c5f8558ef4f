#include "load_connection.hpp"

#include <netinet/in.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "transport/tcp/noise_handshake.hpp"
#include "transport/tcp/tcp_frame_stream.hpp"
#include "transport/transport.hpp"
#include "util/coro.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::loadgen {
namespace {

using asio::ip::tcp;
// Replies of this server are small; pushes carry one envelope (<= 64 KiB by default).
constexpr std::size_t kMaxServerMessage = 4 << 20;

Error socket_error(std::string_view what, std::error_code ec, bool timed_out) {
  if (timed_out) return make_error(Errc::timeout, std::string(what) + ": timed out");
  return make_error(Errc::network, std::string(what) + ": " + ec.message());
}

Error reply_error(const wire::ErrorReply& error) {
  // ErrorCode values mirror Errc + 1 (ERROR_UNSPECIFIED = 0); keep the server's words.
  Errc code = Errc::protocol;
  switch (error.code()) {
    case wire::ERROR_LIMIT_EXCEEDED:
      code = Errc::limit_exceeded;
      break;
    case wire::ERROR_UNAVAILABLE:
      code = Errc::unavailable;
      break;
    case wire::ERROR_NOT_FOUND:
      code = Errc::not_found;
      break;
    case wire::ERROR_AUTH_FAILED:
    case wire::ERROR_NOT_REGISTERED:
      code = Errc::auth_failed;
      break;
    case wire::ERROR_STORAGE:
      code = Errc::storage;
      break;
    default:
      break;
  }
  return make_error(code, "server refused the request: " + error.message());
}

}  // namespace

LoadConnection::LoadConnection(std::unique_ptr<transport::FrameStream> stream)
    : stream_(std::move(stream)), channel_(*stream_, kMaxServerMessage) {}

LoadConnection::~LoadConnection() {
  if (stream_) stream_->close();
}

asio::awaitable<Result<std::shared_ptr<LoadConnection>>> LoadConnection::open(asio::any_io_executor executor,
                                                                              DialSpec spec) {
  if (!spec.source) {
    // The real client path: any registered transport (tcp, obfs, ...) by the endpoint's scheme.
    transport::DialOptions options;
    options.client_static = spec.client_static;
    options.timeout = spec.timeout;
    auto dialed = co_await transport::dial(executor, spec.endpoint, options);
    if (!dialed.ok()) co_return std::move(dialed).error();
    std::unique_ptr<transport::FrameStream> stream = std::move(*dialed);
    co_return std::shared_ptr<LoadConnection>(new LoadConnection(std::move(stream)));
  }
  // A chosen source address (more than ~28K connections to one server port): the tcp
  // transport's handshake done here, since DialOptions has no source address.
  if (spec.endpoint.scheme != "tcp") {
    co_return make_error(Errc::invalid_argument,
                         "source addresses work only with the tcp transport (this endpoint is " +
                             spec.endpoint.scheme + "): use at most ~28,000 connections or --transport tcp");
  }
  tcp::socket socket(executor);
  bool timed_out = false;
  asio::steady_timer deadline(executor);
  deadline.expires_after(spec.timeout);
  deadline.async_wait([&socket, &timed_out](std::error_code ec) {
    if (ec) return;
    timed_out = true;
    std::error_code ignored;
    socket.cancel(ignored);
  });
  std::error_code ec;
  auto address = asio::ip::make_address(spec.endpoint.host, ec);
  if (ec) co_return make_error(Errc::invalid_argument, "the load generator needs a numeric server address");
  tcp::endpoint server(address, spec.endpoint.port);
  socket.open(server.protocol(), ec);
  if (ec) co_return socket_error("socket", ec, false);
  if (spec.source) {
    // Pick the port at connect time, per (source, destination): without this, bind()
    // would reserve a port per source address for every destination.
    int one = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    socket.bind(tcp::endpoint(*spec.source, 0), ec);
    if (ec) co_return socket_error("bind " + spec.source->to_string(), ec, false);
  }
  auto [cec] = co_await socket.async_connect(server, use_tuple);
  if (cec) co_return socket_error("connect to " + spec.endpoint.to_uri(), cec, timed_out);
  socket.set_option(tcp::no_delay(true), ec);

  auto hello =
      transport::start_client_hello(spec.endpoint.server_static, spec.endpoint.psk, spec.client_static.get());
  if (!hello.ok()) co_return std::move(hello).error();
  auto [wec, written] = co_await asio::async_write(socket, asio::buffer(hello->hello), use_tuple);
  if (wec) co_return socket_error("send handshake", wec, timed_out);
  std::array<std::uint8_t, 2> prefix{};
  auto [rec, read] = co_await asio::async_read(socket, asio::buffer(prefix), use_tuple);
  if (rec)
    co_return socket_error("read handshake reply (wrong key/PSK, or server overloaded)", rec, timed_out);
  auto length = transport::parse_handshake_length(prefix);
  if (!length.ok()) co_return std::move(length).error();
  Bytes reply(*length);
  auto [rec2, read2] = co_await asio::async_read(socket, asio::buffer(reply), use_tuple);
  if (rec2) co_return socket_error("read handshake reply", rec2, timed_out);
  auto keys = transport::finish_client_handshake(*hello, reply);
  if (!keys.ok()) co_return std::move(keys).error();
  deadline.cancel();
  std::unique_ptr<transport::FrameStream> stream = std::make_unique<transport::TcpFrameStream>(
      std::move(socket), std::move(*keys), spec.endpoint.server_static, wire::PaddingPolicy{}, 64u << 20);
  co_return std::shared_ptr<LoadConnection>(new LoadConnection(std::move(stream)));
}

void LoadConnection::start(PushHandler on_push) {
  on_push_ = std::move(on_push);
  asio::co_spawn(stream_->get_executor(), read_loop(shared_from_this()),
                 samizdat::log_escape("load_connection: read_loop"));
}

void LoadConnection::close() {
  if (stream_) stream_->close();
}

void LoadConnection::fail_all(const Error& error) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, handler] : pending) handler(error);
}

Status LoadConnection::send(wire::ClientMessage& request, ReplyHandler done) {
  if (!is_open()) return make_error(Errc::unavailable, "the connection is closed");
  std::uint64_t id = next_request_id_++;
  request.set_request_id(id);
  auto bytes = wire::serialize_message(request);
  SZ_CHECK(channel_.send_message(bytes));
  pending_.emplace(id, std::move(done));
  return {};
}

asio::awaitable<Result<wire::ServerMessage>> LoadConnection::call(wire::ClientMessage request) {
  auto executor = stream_->get_executor();
  auto done = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  auto result = std::make_shared<std::optional<Result<wire::ServerMessage>>>();
  auto sent = send(request, [done, result](Result<wire::ServerMessage> reply) {
    result->emplace(std::move(reply));
    done->cancel();
  });
  if (!sent.ok()) co_return std::move(sent).error();
  while (!result->has_value()) {
    auto [ec] = co_await done->async_wait(use_tuple);
    (void)ec;
  }
  co_return std::move(**result);
}

asio::awaitable<void> LoadConnection::read_loop(std::shared_ptr<LoadConnection> self) {
  for (;;) {
    auto message = co_await self->channel_.read_message();
    if (!message.ok()) {
      self->stream_->close();
      self->fail_all(message.error());
      co_return;
    }
    auto parsed = wire::parse_message<wire::ServerMessage>(*message, kMaxServerMessage, "server message");
    if (!parsed.ok()) {
      self->stream_->close();
      self->fail_all(parsed.error());
      co_return;
    }
    if (parsed->request_id() == 0) {
      if (parsed->has_envelope_push() && self->on_push_) self->on_push_(parsed->envelope_push());
      continue;
    }
    auto it = self->pending_.find(parsed->request_id());
    if (it == self->pending_.end()) continue;  // not ours (a refusal of a broken request)
    auto handler = std::move(it->second);
    self->pending_.erase(it);
    if (parsed->has_error()) {
      handler(reply_error(parsed->error()));
    } else {
      handler(std::move(*parsed));
    }
  }
}

}  // namespace samizdat::loadgen
