#include "transport/stream/sealed_frame_stream.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include "util/coro.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::transport {
namespace {

// Drained write buffers bigger than this are freed rather than kept for reuse.
constexpr std::size_t kKeepWriteCapacity = 4096;
// The smallest read of a stream that cannot wait for readability, and the largest read of any.
constexpr std::size_t kIdleReadChunk = 4096;
constexpr std::size_t kMaxReadChunk = 64 * 1024;

struct StreamState : std::enable_shared_from_this<StreamState> {
  StreamState(std::unique_ptr<ByteStream> s, const crypto::noise::TransportKeys& keys,
              wire::PaddingPolicy padding, std::size_t max_queued)
      : stream(std::move(s)),
        socket(dynamic_cast<TcpByteStream*>(stream.get())),
        executor(stream->get_executor()),
        peer(stream->peer_description()),
        encoder(keys.send.key(), padding),
        decoder(keys.receive.key()),
        flushed(executor),
        max_queued_bytes(max_queued) {}

  void close() {
    if (!open) return;
    open = false;
    stream->close();
    flushed.cancel();
  }

  void start_writer() {
    if (writer_active || !open || queued.empty()) return;
    writer_active = true;
    asio::co_spawn(executor, write_loop(shared_from_this()), log_escape("sealed_frame_stream: write_loop"));
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<StreamState> self) {
    while (self->open && !self->queued.empty()) {
      std::swap(self->queued, self->writing);
      ByteView batch = self->writing;
      auto written = co_await self->stream->write(batch);
      self->writing.clear();
      if (self->writing.capacity() > kKeepWriteCapacity) Bytes().swap(self->writing);
      if (!written.ok()) {
        if (!self->write_error) self->write_error = std::move(written).error();
        self->close();
      }
    }
    if (self->queued.capacity() > kKeepWriteCapacity && self->queued.empty()) Bytes().swap(self->queued);
    self->writer_active = false;
    self->flushed.cancel();
  }

  // Reads the next bytes into the decoder: over a socket, whatever has arrived once it is
  // readable (0 bytes when a wakeup was spurious); otherwise one read_some.
  asio::awaitable<Result<std::size_t>> read_into_decoder() {
    if (socket != nullptr) {
      SZ_CO_TRY(co_await socket->wait_readable());
      std::size_t want =
          std::clamp<std::size_t>(std::max(socket->available(), decoder.bytes_needed()), 1, kMaxReadChunk);
      auto buffer = decoder.prepare(want);
      auto n = socket->read_ready(std::span<std::uint8_t>(buffer.data(), buffer.size()));
      decoder.commit(n.ok() ? *n : 0);
      co_return n;
    }
    std::size_t want = std::clamp<std::size_t>(decoder.bytes_needed(), kIdleReadChunk, kMaxReadChunk);
    auto buffer = decoder.prepare(want);
    std::span<std::uint8_t> target(buffer.data(), buffer.size());
    auto n = co_await stream->read_some(target);
    decoder.commit(n.ok() ? *n : 0);
    co_return n;
  }

  std::unique_ptr<ByteStream> stream;
  TcpByteStream* socket;  // `stream` when it is a plain TCP socket, else null
  asio::any_io_executor executor;
  std::string peer;
  wire::FrameEncoder encoder;
  wire::FrameDecoder decoder;
  Bytes queued;                // sealed frames not yet handed to the stream
  Bytes writing;               // the batch being written
  asio::steady_timer flushed;  // cancelled whenever the writer drains (a condition variable)
  std::optional<Error> write_error;
  std::size_t max_queued_bytes;
  bool writer_active = false;
  bool open = true;
};

class SealedFrameStream final : public FrameStream {
 public:
  SealedFrameStream(std::unique_ptr<ByteStream> stream, crypto::noise::TransportKeys keys,
                    std::optional<crypto::X25519Public> peer_static, wire::PaddingPolicy padding,
                    std::size_t max_queued_bytes)
      : state_(std::make_shared<StreamState>(std::move(stream), keys, padding, max_queued_bytes)),
        peer_static_(peer_static),
        handshake_hash_(std::move(keys.handshake_hash)) {}
  ~SealedFrameStream() override { state_->close(); }

  asio::awaitable<Result<Bytes>> read_frame() override {
    auto state = state_;
    for (;;) {
      if (!state->open) co_return make_error(Errc::unavailable, "the connection is closed");
      auto next = state->decoder.next();
      if (!next.ok()) {
        state->close();
        co_return std::move(next).error();
      }
      if (next->has_value()) {
        const wire::Frame& frame = **next;
        if (frame.type == wire::FrameType::close) {
          state->close();
          co_return make_error(Errc::network, "connection closed by peer");
        }
        co_return to_bytes(frame.payload);
      }
      auto n = co_await state->read_into_decoder();
      if (!n.ok()) {
        // A cancelled read (a caller's timeout) leaves the stream usable; anything else ends it.
        if (n.error().code != Errc::timeout) state->close();
        if (!state->open && n.error().code == Errc::unavailable) {
          co_return make_error(Errc::unavailable, "the connection was closed");
        }
        co_return std::move(n).error();
      }
    }
  }

  asio::awaitable<Status> write_frame(ByteView payload) override {
    SZ_CO_TRY(send_frame(payload));
    co_return co_await flush();
  }

  Status send_frame(ByteView payload) override {
    auto& state = *state_;
    if (!state.open) {
      return state.write_error ? *state.write_error
                               : make_error(Errc::unavailable, "the connection is closed");
    }
    if (payload.size() > wire::kMaxFramePayload) {
      return make_error(Errc::limit_exceeded, "frame payload of " + std::to_string(payload.size()) +
                                                  " bytes exceeds the maximum of " +
                                                  std::to_string(wire::kMaxFramePayload));
    }
    if (state.queued.size() > state.max_queued_bytes) {
      return make_error(
          Errc::limit_exceeded,
          "the peer is not reading: " + std::to_string(state.queued.size()) + " bytes already queued");
    }
    SZ_CHECK(state.encoder.seal_data(payload, state.queued));
    state.start_writer();
    return {};
  }

  asio::awaitable<Status> flush() override {
    auto state = state_;
    while (state->open && state->writer_active) {
      state->flushed.expires_at(asio::steady_timer::time_point::max());
      co_await state->flushed.async_wait(use_tuple);
    }
    if (state->write_error) co_return *state->write_error;
    if (!state->open)
      co_return make_error(Errc::unavailable, "the connection was closed before the frame was sent");
    co_return Status{};
  }

  std::size_t queued_bytes() const override { return state_->queued.size() + state_->writing.size(); }
  void close() override { state_->close(); }
  bool is_open() const override { return state_->open; }
  const std::optional<crypto::X25519Public>& peer_static() const override { return peer_static_; }
  ByteView handshake_hash() const override { return handshake_hash_; }
  std::string peer_description() const override { return state_->peer; }
  asio::any_io_executor get_executor() override { return state_->executor; }
  std::size_t max_payload() const override { return wire::kMaxFramePayload; }
  std::size_t max_queued_bytes() const override { return state_->max_queued_bytes; }

 private:
  std::shared_ptr<StreamState> state_;
  std::optional<crypto::X25519Public> peer_static_;
  Bytes handshake_hash_;
};

}  // namespace

std::unique_ptr<FrameStream> make_sealed_frame_stream(std::unique_ptr<ByteStream> stream,
                                                      crypto::noise::TransportKeys keys,
                                                      std::optional<crypto::X25519Public> peer_static,
                                                      wire::PaddingPolicy padding,
                                                      std::size_t max_queued_bytes) {
  return std::make_unique<SealedFrameStream>(std::move(stream), std::move(keys), peer_static, padding,
                                             max_queued_bytes);
}

}  // namespace samizdat::transport
