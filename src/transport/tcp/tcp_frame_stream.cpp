#include "transport/tcp/tcp_frame_stream.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

// Drained write buffers bigger than this are freed rather than kept for reuse.
constexpr std::size_t kKeepWriteCapacity = 4096;
// Upper bound of one read from the socket into the decoder.
constexpr std::size_t kMaxReadChunk = 64 * 1024;

}  // namespace

struct TcpFrameStream::State : std::enable_shared_from_this<State> {
  State(asio::ip::tcp::socket s, const crypto::noise::TransportKeys& keys, wire::PaddingPolicy padding,
        std::size_t max_queued)
      : socket(std::move(s)),
        encoder(keys.send.key(), padding),
        decoder(keys.receive.key()),
        flushed(socket.get_executor()),
        max_queued_bytes(max_queued) {
    std::error_code ignored;
    peer = socket.remote_endpoint(ignored);
    // Reads are attempted only after readiness, and must never block the thread.
    socket.non_blocking(true, ignored);
  }

  void close() {
    if (!open) return;
    open = false;
    std::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    flushed.cancel();
  }

  void start_writer() {
    if (writer_active || !open || queued.empty()) return;
    writer_active = true;
    asio::co_spawn(socket.get_executor(), write_loop(shared_from_this()),
                   log_escape("tcp_frame_stream: write_loop"));
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<State> self) {
    while (self->open && !self->queued.empty()) {
      std::swap(self->queued, self->writing);
      auto [ec, written] = co_await asio::async_write(self->socket, asio::buffer(self->writing), use_tuple);
      (void)written;
      self->writing.clear();
      if (self->writing.capacity() > kKeepWriteCapacity) Bytes().swap(self->writing);
      if (ec) {
        if (!self->write_error) {
          self->write_error = make_error(Errc::network, "write failed: " + ec.message());
        }
        self->close();
      }
    }
    if (self->queued.capacity() > kKeepWriteCapacity && self->queued.empty()) Bytes().swap(self->queued);
    self->writer_active = false;
    self->flushed.cancel();
  }

  asio::ip::tcp::socket socket;
  asio::ip::tcp::endpoint peer;
  wire::FrameEncoder encoder;
  wire::FrameDecoder decoder;
  Bytes queued;                // sealed frames not yet handed to the socket
  Bytes writing;               // the batch being written
  asio::steady_timer flushed;  // cancelled whenever the writer drains (a condition variable)
  std::optional<Error> write_error;
  std::size_t max_queued_bytes;
  bool writer_active = false;
  bool open = true;
};

TcpFrameStream::TcpFrameStream(asio::ip::tcp::socket socket, crypto::noise::TransportKeys keys,
                               std::optional<crypto::X25519Public> peer_static, wire::PaddingPolicy padding,
                               std::size_t max_queued_bytes)
    : state_(std::make_shared<State>(std::move(socket), keys, padding, max_queued_bytes)),
      peer_static_(peer_static),
      handshake_hash_(std::move(keys.handshake_hash)) {}

TcpFrameStream::~TcpFrameStream() { state_->close(); }

bool TcpFrameStream::is_open() const { return state_->open; }
void TcpFrameStream::close() { state_->close(); }
asio::any_io_executor TcpFrameStream::get_executor() { return state_->socket.get_executor(); }
std::size_t TcpFrameStream::max_queued_bytes() const { return state_->max_queued_bytes; }

std::string TcpFrameStream::peer_description() const {
  const auto& peer = state_->peer;
  auto address = peer.address().to_string();
  if (peer.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(peer.port());
}

Status TcpFrameStream::send_frame(ByteView payload) {
  auto& state = *state_;
  if (!state.open) {
    return state.write_error ? *state.write_error : make_error(Errc::unavailable, "the connection is closed");
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

asio::awaitable<Status> TcpFrameStream::write_frame(ByteView payload) {
  SZ_CO_TRY(send_frame(payload));
  co_return co_await flush();
}

std::size_t TcpFrameStream::queued_bytes() const { return state_->queued.size() + state_->writing.size(); }

asio::awaitable<Status> TcpFrameStream::flush() {
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

asio::awaitable<Result<Bytes>> TcpFrameStream::read_frame() {
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
    // Wait for readability first so an idle connection holds no read buffer.
    auto [wait_error] = co_await state->socket.async_wait(asio::ip::tcp::socket::wait_read, use_tuple);
    if (wait_error) {
      if (wait_error == asio::error::operation_aborted) {
        if (!state->open) co_return make_error(Errc::unavailable, "the connection was closed");
        co_return make_error(Errc::timeout, "read cancelled");
      }
      state->close();
      co_return make_error(Errc::network, "read failed: " + wait_error.message());
    }
    std::error_code ec;
    std::size_t available = state->socket.available(ec);
    std::size_t want =
        std::clamp<std::size_t>(std::max(available, state->decoder.bytes_needed()), 1, kMaxReadChunk);
    auto buffer = state->decoder.prepare(want);
    std::size_t n = state->socket.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
    state->decoder.commit(ec ? 0 : n);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (ec == asio::error::eof) {
      state->close();
      co_return make_error(Errc::network, "connection closed by peer");
    }
    if (ec) {
      state->close();
      co_return make_error(Errc::network, "read failed: " + ec.message());
    }
  }
}

}  // namespace samizdat::transport
