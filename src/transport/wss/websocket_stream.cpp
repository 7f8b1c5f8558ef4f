#include "transport/wss/websocket_stream.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstring>

#include "util/coro.hpp"

namespace samizdat::transport::ws {
namespace {

// Drained write buffers bigger than this are freed rather than kept.
constexpr std::size_t kKeepWriteCapacity = 4096;
constexpr std::size_t kMinRead = 4096;
constexpr std::size_t kMaxRead = 64 * 1024;

}  // namespace

struct WebSocketByteStream::State : std::enable_shared_from_this<State> {
  State(std::unique_ptr<ByteStream> in, Role r, std::size_t max_message)
      : inner(std::move(in)),
        role(r),
        decoder(/*expect_masked=*/r == Role::server, max_message),
        drained(inner->get_executor()) {}

  bool masked() const { return role == Role::client; }

  void close() {
    if (!open) return;
    open = false;
    inner->close();
    drained.cancel();
  }

  // Queues a frame for the ordered writer and makes sure it runs.
  void enqueue(Opcode opcode, ByteView payload) {
    append_frame(outbox, opcode, true, payload, masked());
    start_writer();
  }

  void start_writer() {
    if (writer_active || !open || outbox.empty()) return;
    writer_active = true;
    asio::co_spawn(inner->get_executor(), write_loop(shared_from_this()),
                   log_escape("websocket_stream: write_loop"));
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<State> self) {
    while (self->open && !self->outbox.empty()) {
      std::swap(self->outbox, self->writing);
      ByteView batch = self->writing;
      auto sent = co_await self->inner->write(batch);
      self->written_total += self->writing.size();
      self->writing.clear();
      if (self->writing.capacity() > kKeepWriteCapacity) Bytes().swap(self->writing);
      if (!sent.ok()) {
        if (!self->write_error) self->write_error = sent.error();
        self->close();
      }
      self->drained.cancel();
    }
    if (self->outbox.empty() && self->outbox.capacity() > kKeepWriteCapacity) Bytes().swap(self->outbox);
    self->writer_active = false;
    if (self->close_when_drained) self->close();
    self->drained.cancel();
  }

  // Sends a close frame with `code`, then closes once it is written.
  void close_with(std::uint16_t code, std::string_view reason) {
    if (!open) return;
    if (!close_sent) {
      close_sent = true;
      auto payload = close_payload(code, reason);
      enqueue(Opcode::close, payload);
    }
    close_when_drained = true;
    if (!writer_active) close();
  }

  std::unique_ptr<ByteStream> inner;
  Role role;
  MessageDecoder decoder;
  ByteView pending;                 // unread bytes of the current binary message (points into decoder)
  Bytes outbox;                     // frames queued, not yet handed to inner
  Bytes writing;                    // the batch being written
  std::uint64_t queued_total = 0;   // bytes ever appended to outbox by write()
  std::uint64_t written_total = 0;  // bytes ever written to inner
  asio::steady_timer drained;       // cancelled whenever a batch completes (a condition variable)
  std::optional<Error> write_error;
  bool writer_active = false;
  bool close_sent = false;
  bool close_when_drained = false;
  bool peer_closed = false;  // a close frame arrived: nothing more will be read
  bool open = true;
};

WebSocketByteStream::WebSocketByteStream(std::unique_ptr<ByteStream> inner, Role role, Bytes already_read,
                                         std::size_t max_message)
    : state_(std::make_shared<State>(std::move(inner), role, max_message)) {
  if (!already_read.empty()) state_->decoder.feed(already_read);
}

WebSocketByteStream::~WebSocketByteStream() { state_->close(); }

bool WebSocketByteStream::is_open() const { return state_->open; }
void WebSocketByteStream::close() { state_->close(); }
std::string WebSocketByteStream::peer_description() const { return state_->inner->peer_description(); }
asio::any_io_executor WebSocketByteStream::get_executor() { return state_->inner->get_executor(); }

Status WebSocketByteStream::ping(ByteView payload) {
  if (!state_->open || state_->close_sent) return make_error(Errc::unavailable, "the connection is closed");
  if (payload.size() > kMaxControlPayload) {
    return make_error(Errc::invalid_argument, "a ping carries at most 125 bytes");
  }
  state_->enqueue(Opcode::ping, payload);
  return {};
}

asio::awaitable<Status> WebSocketByteStream::write(ByteView data) {
  auto state = state_;
  if (state->write_error) co_return *state->write_error;
  if (!state->open || state->close_sent) co_return make_error(Errc::unavailable, "the connection is closed");
  for (std::size_t offset = 0; offset < data.size(); offset += kMaxWriteMessage) {
    auto chunk = data.subspan(offset, std::min(kMaxWriteMessage, data.size() - offset));
    append_frame(state->outbox, Opcode::binary, true, chunk, state->masked());
  }
  // written_total counts every byte that went to inner (control frames too), so the
  // target is everything queued up to and including this write.
  const std::uint64_t target = state->written_total + state->writing.size() + state->outbox.size();
  state->start_writer();
  while (state->open && state->written_total < target) {
    state->drained.expires_at(asio::steady_timer::time_point::max());
    co_await state->drained.async_wait(use_tuple);
  }
  if (state->write_error) co_return *state->write_error;
  if (state->written_total < target) {
    co_return make_error(Errc::unavailable, "the connection was closed before the data was sent");
  }
  co_return Status{};
}

asio::awaitable<Result<std::size_t>> WebSocketByteStream::read_some(std::span<std::uint8_t> buffer) {
  auto state = state_;
  if (buffer.empty()) co_return make_error(Errc::invalid_argument, "read_some needs a non-empty buffer");
  for (;;) {
    if (state->peer_closed) co_return make_error(Errc::network, "connection closed by peer");
    if (!state->open) co_return make_error(Errc::unavailable, "the connection is closed");
    if (!state->pending.empty()) {
      std::size_t n = std::min(buffer.size(), state->pending.size());
      std::memcpy(buffer.data(), state->pending.data(), n);
      state->pending = state->pending.subspan(n);
      co_return n;
    }
    auto next = state->decoder.next();
    if (!next.ok()) {
      state->close_with(state->decoder.close_code(), "");
      co_return std::move(next).error();
    }
    if (next->has_value()) {
      const Message& message = **next;
      switch (message.opcode) {
        case Opcode::binary:
          state->pending = message.payload;
          continue;
        case Opcode::ping:
          if (!state->close_sent) state->enqueue(Opcode::pong, message.payload);
          continue;
        case Opcode::pong:
          continue;
        case Opcode::close: {
          auto reason = parse_close_payload(message.payload);
          // Echo the code (section 5.5.1); a bad close payload is answered with 1002.
          std::uint16_t code = !reason.ok()                     ? kCloseProtocolError
                               : reason->code == kCloseNoStatus ? kCloseNormal
                                                                : reason->code;
          state->peer_closed = true;
          state->close_with(code, "");
          co_return make_error(Errc::network, "connection closed by peer");
        }
        default:
          state->close_with(kCloseUnsupportedData, "");
          co_return make_error(Errc::protocol, "websocket: text message on a binary connection");
      }
    }
    const std::size_t want = std::clamp(state->decoder.bytes_needed(), kMinRead, kMaxRead);
    auto space = state->decoder.prepare(want);
    auto n = co_await state->inner->read_some(space);
    state->decoder.commit(n.ok() ? *n : 0);
    if (!n.ok()) {
      // A cancelled read (Errc::timeout) leaves the connection usable.
      if (n.error().code != Errc::timeout) state->close();
      co_return std::move(n).error();
    }
  }
}

}  // namespace samizdat::transport::ws
