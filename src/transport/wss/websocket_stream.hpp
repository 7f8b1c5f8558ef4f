// WebSocketByteStream: a WebSocket connection (after the opening handshake) as a
// ByteStream. Each write() goes out as one binary message (split into messages of at
// most kMaxWriteMessage bytes); read_some() returns the bytes of binary messages in
// order, whatever their framing. Pings are answered with pongs (also while a write is
// outstanding: control frames and data share one ordered writer), a close frame is
// echoed and ends the stream, and any framing violation, text message or message over
// the size limit sends the matching close code and fails the read (Errc::protocol or
// Errc::limit_exceeded).
#pragma once

#include <cstddef>
#include <memory>

#include "transport/stream/byte_stream.hpp"
#include "transport/wss/websocket_frame.hpp"

namespace samizdat::transport::ws {

// Largest binary message a write() produces (bigger writes become several messages).
inline constexpr std::size_t kMaxWriteMessage = 64 * 1024;
// Largest message read_some() accepts (all fragments together): enough for any sane
// peer, small enough that a hostile one cannot make us buffer much.
inline constexpr std::size_t kDefaultMaxMessage = 1 << 20;

class WebSocketByteStream final : public ByteStream {
 public:
  enum class Role { client, server };
  // `already_read`: bytes that arrived right after the HTTP head (the peer's first frames).
  WebSocketByteStream(std::unique_ptr<ByteStream> inner, Role role, Bytes already_read = {},
                      std::size_t max_message = kDefaultMaxMessage);
  ~WebSocketByteStream() override;

  asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> buffer) override;
  asio::awaitable<Status> write(ByteView data) override;
  void close() override;
  bool is_open() const override;
  std::string peer_description() const override;
  asio::any_io_executor get_executor() override;

  // Sends a ping (payload <= 125 bytes; the answer is consumed by read_some). For keepalive
  // through proxies that close idle connections.
  Status ping(ByteView payload);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace samizdat::transport::ws
