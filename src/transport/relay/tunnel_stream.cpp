#include "transport/relay/tunnel_stream.hpp"

#include "transport/deadline.hpp"
#include "transport/noise/noise_handshake.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

// Reads exact byte counts from the concatenated payloads of an outer stream.
class ChunkReader {
 public:
  explicit ChunkReader(FrameStream& stream) : stream_(stream) {}

  asio::awaitable<Result<Bytes>> read_exact(std::size_t n) {
    while (buffer_.size() - offset_ < n) {
      auto chunk = co_await stream_.read_frame();
      if (!chunk.ok()) co_return std::move(chunk).error();
      if (buffer_.size() + chunk->size() > kMaxBuffered) {
        co_return make_error(Errc::malformed, "tunnel handshake data is longer than any handshake");
      }
      append(buffer_, *chunk);
    }
    Bytes out(buffer_.begin() + static_cast<std::ptrdiff_t>(offset_),
              buffer_.begin() + static_cast<std::ptrdiff_t>(offset_ + n));
    offset_ += n;
    co_return out;
  }

  asio::awaitable<Result<Bytes>> read_handshake_message() {
    auto prefix = co_await read_exact(2);
    if (!prefix.ok()) co_return std::move(prefix).error();
    auto length = parse_handshake_length(*prefix);
    if (!length.ok()) co_return std::move(length).error();
    auto message = co_await read_exact(*length);
    co_return message;
  }

  // Bytes read past the handshake (the first inner frames, if the peer sent them early).
  Bytes leftover() const {
    return Bytes(buffer_.begin() + static_cast<std::ptrdiff_t>(offset_), buffer_.end());
  }

 private:
  static constexpr std::size_t kMaxBuffered = 4 * kMaxHandshakeMessage + wire::kMaxFrameWireSize;
  FrameStream& stream_;
  Bytes buffer_;
  std::size_t offset_ = 0;
};

// Sends `bytes` as consecutive outer frames of at most the outer stream's payload size.
Status send_chunked(FrameStream& outer, ByteView bytes) {
  std::size_t chunk = outer.max_payload();
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
    SZ_CHECK(outer.send_frame(bytes.subspan(offset, std::min(chunk, bytes.size() - offset))));
  }
  return {};
}

class TunnelFrameStream final : public FrameStream {
 public:
  TunnelFrameStream(std::unique_ptr<FrameStream> outer, const crypto::noise::TransportKeys& keys,
                    std::optional<crypto::X25519Public> peer_static, wire::PaddingPolicy padding,
                    ByteView leftover)
      : outer_(std::move(outer)),
        encoder_(keys.send.key(), padding),
        decoder_(keys.receive.key()),
        peer_static_(peer_static),
        handshake_hash_(keys.handshake_hash) {
    if (!leftover.empty()) decoder_.feed(leftover);
  }
  ~TunnelFrameStream() override { outer_->close(); }

  asio::awaitable<Result<Bytes>> read_frame() override {
    for (;;) {
      if (!open_) co_return make_error(Errc::unavailable, "the connection is closed");
      auto next = decoder_.next();
      if (!next.ok()) {
        close();
        co_return std::move(next).error();
      }
      if (next->has_value()) {
        const wire::Frame& frame = **next;
        if (frame.type == wire::FrameType::close) {
          close();
          co_return make_error(Errc::network, "connection closed by peer");
        }
        co_return to_bytes(frame.payload);
      }
      auto chunk = co_await outer_->read_frame();
      if (!chunk.ok()) {
        if (chunk.error().code != Errc::timeout) open_ = false;
        co_return std::move(chunk).error();
      }
      decoder_.feed(*chunk);
    }
  }

  asio::awaitable<Status> write_frame(ByteView payload) override {
    auto sent = send_frame(payload);
    if (!sent.ok()) co_return sent;
    auto flushed = co_await outer_->flush();
    co_return flushed;
  }

  Status send_frame(ByteView payload) override {
    if (!open_ || !outer_->is_open()) return make_error(Errc::unavailable, "the connection is closed");
    if (outer_->queued_bytes() > outer_->max_queued_bytes()) {
      return make_error(Errc::limit_exceeded, "the peer is not reading: too much data queued");
    }
    Bytes sealed;
    SZ_CHECK(encoder_.seal_data(payload, sealed));
    return send_chunked(*outer_, sealed);
  }

  asio::awaitable<Status> flush() override {
    auto flushed = co_await outer_->flush();
    co_return flushed;
  }
  std::size_t queued_bytes() const override { return outer_->queued_bytes(); }
  void close() override {
    open_ = false;
    outer_->close();
  }
  bool is_open() const override { return open_ && outer_->is_open(); }
  const std::optional<crypto::X25519Public>& peer_static() const override { return peer_static_; }
  ByteView handshake_hash() const override { return handshake_hash_; }
  std::string peer_description() const override { return "tunnel via " + outer_->peer_description(); }
  asio::any_io_executor get_executor() override { return outer_->get_executor(); }
  std::size_t max_payload() const override { return wire::kMaxFramePayload; }
  std::size_t max_queued_bytes() const override { return outer_->max_queued_bytes(); }

 private:
  std::unique_ptr<FrameStream> outer_;
  wire::FrameEncoder encoder_;
  wire::FrameDecoder decoder_;
  std::optional<crypto::X25519Public> peer_static_;
  Bytes handshake_hash_;
  bool open_ = true;
};

}  // namespace

asio::awaitable<Result<std::unique_ptr<FrameStream>>> client_handshake_in_tunnel(
    std::unique_ptr<FrameStream> outer, const Endpoint& upstream, DialOptions options) {
  Deadline deadline(*outer, deadline_after(options.timeout));
  auto hello = start_client_hello(upstream.server_static, upstream.psk, options.client_static.get());
  if (!hello.ok()) co_return std::move(hello).error();
  auto sent = send_chunked(*outer, hello->hello);
  if (!sent.ok()) co_return std::move(sent).error();
  ChunkReader reader(*outer);
  auto reply = co_await reader.read_handshake_message();
  if (!reply.ok()) {
    if (deadline.fired()) {
      co_return make_error(Errc::timeout,
                           "the handshake with " + upstream.to_uri() + " through the relay timed out");
    }
    if (reply.error().code == Errc::network || reply.error().code == Errc::unavailable) {
      co_return make_error(Errc::network, "the tunnel to " + upstream.to_uri() +
                                              " closed during the handshake (wrong server key or PSK for "
                                              "this network, or the relay cannot reach it)");
    }
    co_return std::move(reply).error();
  }
  auto keys = finish_client_handshake(*hello, *reply);
  if (!keys.ok()) co_return std::move(keys).error();
  auto leftover = reader.leftover();
  std::unique_ptr<FrameStream> stream = std::make_unique<TunnelFrameStream>(
      std::move(outer), *keys, upstream.server_static, options.padding, leftover);
  co_return stream;
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> server_handshake_in_tunnel(
    std::unique_ptr<FrameStream> outer, const TunnelServerOptions& options) {
  if (!options.server_static) co_return make_error(Errc::invalid_argument, "tunnel needs the server key");
  Deadline deadline(*outer, deadline_after(options.handshake_timeout));
  ChunkReader reader(*outer);
  auto message1 = co_await reader.read_handshake_message();
  if (!message1.ok()) {
    outer->close();
    if (deadline.fired()) co_return make_error(Errc::timeout, "tunnel handshake took too long");
    co_return std::move(message1).error();
  }
  std::optional<ServerHandshakeResult> accepted;
  for (const auto& psk : options.psks) {
    auto result = respond_to_client_hello(*message1, *options.server_static, psk);
    if (result.ok()) {
      accepted = std::move(*result);
      break;
    }
  }
  if (!accepted) {
    outer->close();
    co_return make_error(
        Errc::auth_failed,
        "tunnel handshake did not authenticate (not a samizdat client, or a wrong key or PSK)");
  }
  if (options.replays != nullptr && options.replays->check_and_insert(*message1)) {
    outer->close();
    co_return make_error(Errc::replay, "replayed tunnel handshake message");
  }
  auto sent = send_chunked(*outer, accepted->reply);
  if (!sent.ok()) {
    outer->close();
    co_return std::move(sent).error();
  }
  auto leftover = reader.leftover();
  std::unique_ptr<FrameStream> stream = std::make_unique<TunnelFrameStream>(
      std::move(outer), accepted->keys, accepted->client_static, options.padding, leftover);
  co_return stream;
}

}  // namespace samizdat::transport
