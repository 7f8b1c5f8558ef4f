#include "transport/noise/noise_over_stream.hpp"

#include <array>

#include "transport/stream/sealed_frame_stream.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

Error prefixed(std::string_view what, Error error) {
  error.message = std::string(what) + ": " + error.message;
  return error;
}

asio::awaitable<Result<Bytes>> read_handshake_message(ByteStream& stream) {
  std::array<std::uint8_t, 2> prefix{};
  std::span<std::uint8_t> prefix_span(prefix);
  SZ_CO_TRY(co_await read_exact(stream, prefix_span));
  SZ_CO_TRY_RESULT(length, parse_handshake_length(prefix));
  Bytes message(length);
  std::span<std::uint8_t> message_span(message);
  SZ_CO_TRY(co_await read_exact(stream, message_span));
  co_return message;
}

}  // namespace

ServerHandshakeParams handshake_params_of(ListenerState& listener) {
  ServerHandshakeParams params;
  params.server_static = listener.options.server_static;
  params.psk = listener.endpoint.psk;
  params.replays = &listener.replays;
  params.timeout = listener.options.handshake_timeout;
  params.padding = listener.options.padding;
  params.max_queued_bytes = listener.options.max_queued_bytes;
  return params;
}

Error server_handshake_error(const Deadline& deadline, Error error) {
  if (deadline.fired()) return make_error(Errc::timeout, "the handshake took too long");
  return error;
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> client_handshake_over(
    std::unique_ptr<ByteStream> stream, const Endpoint& endpoint, const DialOptions& options,
    DeadlineClock::time_point deadline) {
  auto hello = start_client_hello(endpoint.server_static, endpoint.psk, options.client_static.get());
  if (!hello.ok()) {
    stream->close();
    co_return std::move(hello).error();
  }
  const std::string timed_out = "the handshake with " + endpoint.to_uri() + " timed out";
  Result<crypto::noise::TransportKeys> keys = make_error(Errc::internal, "unreached");
  {
    Deadline guard(*stream, deadline);
    ByteView hello_bytes = hello->hello;
    auto sent = co_await stream->write(hello_bytes);
    if (!sent.ok()) {
      stream->close();
      if (guard.fired()) co_return make_error(Errc::timeout, timed_out);
      co_return prefixed("sending the handshake to " + endpoint.to_uri(), std::move(sent).error());
    }
    auto reply = co_await read_handshake_message(*stream);
    if (!reply.ok()) {
      stream->close();
      if (guard.fired()) co_return make_error(Errc::timeout, timed_out);
      if (reply.error().code == Errc::network) {
        co_return make_error(Errc::network, "the server at " + endpoint.to_uri() +
                                                " closed the connection during the handshake (wrong server "
                                                "key or PSK for this endpoint, or the connection is being "
                                                "interfered with)");
      }
      co_return std::move(reply).error();
    }
    keys = finish_client_handshake(*hello, *reply);
    if (guard.fired()) co_return make_error(Errc::timeout, timed_out);
  }
  if (!keys.ok()) {
    stream->close();
    co_return std::move(keys).error();
  }
  co_return make_sealed_frame_stream(std::move(stream), std::move(*keys), endpoint.server_static,
                                     options.padding, 1 << 20);
}

asio::awaitable<Result<ServerHandshakeResult>> answer_client_hello(ByteStream& stream,
                                                                   const ServerHandshakeParams& params) {
  if (!params.server_static) {
    co_return make_error(Errc::invalid_argument, "the server handshake needs the server's static key");
  }
  auto message1 = co_await read_handshake_message(stream);
  if (!message1.ok()) co_return prefixed("reading the handshake", std::move(message1).error());
  auto result = respond_to_client_hello(*message1, *params.server_static, params.psk);
  if (!result.ok()) co_return std::move(result).error();
  // Only authenticated messages enter the cache, so junk cannot fill it.
  if (params.replays != nullptr && params.replays->check_and_insert(*message1)) {
    co_return make_error(Errc::replay,
                         "replayed handshake message (a prober resending a recorded handshake)");
  }
  ByteView reply = result->reply;
  auto sent = co_await stream.write(reply);
  if (!sent.ok()) co_return prefixed("sending the handshake reply", std::move(sent).error());
  co_return std::move(result);
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> server_handshake_over(
    std::unique_ptr<ByteStream> stream, const ServerHandshakeParams& params) {
  Result<ServerHandshakeResult> result = make_error(Errc::internal, "unreached");
  {
    Deadline guard(*stream, deadline_after(params.timeout));
    result = co_await answer_client_hello(*stream, params);
    if (!result.ok()) {
      stream->close();
      co_return server_handshake_error(guard, std::move(result).error());
    }
    if (guard.fired()) co_return make_error(Errc::timeout, "the handshake took too long");
  }
  co_return make_sealed_frame_stream(std::move(stream), std::move(result->keys), result->client_static,
                                     params.padding, params.max_queued_bytes);
}

asio::awaitable<void> accept_over(ListenerState& listener, std::unique_ptr<ByteStream> stream,
                                  std::string peer) {
  auto params = handshake_params_of(listener);
  auto accepted = co_await server_handshake_over(std::move(stream), params);
  if (!accepted.ok()) {
    listener.reject(peer, accepted.error());
    co_return;
  }
  listener.accept(std::move(*accepted));
}

}  // namespace samizdat::transport
