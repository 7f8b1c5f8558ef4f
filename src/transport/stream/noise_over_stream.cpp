#include "transport/stream/noise_over_stream.hpp"

#include <array>

#include "transport/stream/stream_deadline.hpp"
#include "transport/tcp/noise_handshake.hpp"

namespace samizdat::transport {
namespace {

Error during_handshake(const StreamDeadline& deadline, std::string what, Error error) {
  if (deadline.fired()) return make_error(Errc::timeout, what + ": the handshake took too long");
  error.message = what + ": " + error.message;
  return error;
}

asio::awaitable<Result<Bytes>> read_handshake_message(ByteStream& stream) {
  std::array<std::uint8_t, 2> prefix{};
  std::span<std::uint8_t> prefix_span(prefix);
  auto got_prefix = co_await read_exact(stream, prefix_span);
  if (!got_prefix.ok()) co_return std::move(got_prefix).error();
  auto length = parse_handshake_length(prefix);
  if (!length.ok()) co_return std::move(length).error();
  Bytes message(*length);
  std::span<std::uint8_t> message_span(message);
  auto got = co_await read_exact(stream, message_span);
  if (!got.ok()) co_return std::move(got).error();
  co_return message;
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<FrameStream>>> client_handshake_over(
    std::unique_ptr<ByteStream> stream, const Endpoint& endpoint, const DialOptions& options) {
  auto hello = start_client_hello(endpoint.server_static, endpoint.psk, options.client_static.get());
  if (!hello.ok()) {
    stream->close();
    co_return std::move(hello).error();
  }
  Result<crypto::noise::TransportKeys> keys = make_error(Errc::internal, "unreached");
  {
    StreamDeadline deadline(*stream, options.timeout);
    ByteView hello_bytes = hello->hello;
    auto sent = co_await stream->write(hello_bytes);
    if (!sent.ok()) {
      stream->close();
      co_return during_handshake(deadline, "sending the handshake to " + endpoint.to_uri(),
                                 std::move(sent).error());
    }
    auto reply = co_await read_handshake_message(*stream);
    if (!reply.ok()) {
      stream->close();
      if (deadline.fired()) {
        co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
      }
      if (reply.error().code == Errc::network) {
        co_return make_error(Errc::network, "the server at " + endpoint.to_uri() +
                                                " closed the connection during the handshake (wrong server "
                                                "key or PSK for this endpoint, or the connection is being "
                                                "interfered with)");
      }
      co_return std::move(reply).error();
    }
    keys = finish_client_handshake(*hello, *reply);
    if (deadline.fired()) {
      co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
    }
  }
  if (!keys.ok()) {
    stream->close();
    co_return std::move(keys).error();
  }
  co_return make_stream_frame_stream(std::move(stream), std::move(*keys), endpoint.server_static,
                                     options.padding, 1 << 20);
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> server_handshake_over(
    std::unique_ptr<ByteStream> stream, const ServerHandshakeParams& params) {
  if (!params.server_static) {
    stream->close();
    co_return make_error(Errc::invalid_argument, "server_handshake_over needs the server's static key");
  }
  Result<ServerHandshakeResult> result = make_error(Errc::internal, "unreached");
  {
    StreamDeadline deadline(*stream, params.timeout);
    auto message1 = co_await read_handshake_message(*stream);
    if (!message1.ok()) {
      stream->close();
      co_return during_handshake(deadline, "reading the handshake", std::move(message1).error());
    }
    result = respond_to_client_hello(*message1, *params.server_static, params.psk);
    if (!result.ok()) {
      stream->close();
      co_return std::move(result).error();
    }
    // Only authenticated messages enter the cache, so junk cannot fill it.
    if (params.replays != nullptr && params.replays->check_and_insert(*message1)) {
      stream->close();
      co_return make_error(Errc::replay,
                           "replayed handshake message (a prober resending a recorded handshake)");
    }
    ByteView reply = result->reply;
    auto sent = co_await stream->write(reply);
    if (!sent.ok()) {
      stream->close();
      co_return during_handshake(deadline, "sending the handshake reply", std::move(sent).error());
    }
    if (deadline.fired()) {
      co_return make_error(Errc::timeout, "the handshake took too long");
    }
  }
  co_return make_stream_frame_stream(std::move(stream), std::move(result->keys), result->client_static,
                                     params.padding, params.max_queued_bytes);
}

}  // namespace samizdat::transport
