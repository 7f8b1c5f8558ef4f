// TcpFrameStream: the FrameStream of the tcp transport — a connected socket plus the
// frame codec keyed from the Noise split. Idle cost is kept small: no read buffer is
// held while waiting (it waits for readability, then reads what is there into the
// decoder), and write buffers are released once drained.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <memory>

#include "crypto/noise/handshake.hpp"
#include "transport/frame_stream.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::transport {

class TcpFrameStream final : public FrameStream {
 public:
  TcpFrameStream(asio::ip::tcp::socket socket, crypto::noise::TransportKeys keys,
                 std::optional<crypto::X25519Public> peer_static, wire::PaddingPolicy padding,
                 std::size_t max_queued_bytes);
  ~TcpFrameStream() override;

  asio::awaitable<Result<Bytes>> read_frame() override;
  asio::awaitable<Status> write_frame(ByteView payload) override;
  Status send_frame(ByteView payload) override;
  asio::awaitable<Status> flush() override;
  std::size_t queued_bytes() const override;
  void close() override;
  bool is_open() const override;
  const std::optional<crypto::X25519Public>& peer_static() const override { return peer_static_; }
  ByteView handshake_hash() const override { return handshake_hash_; }
  std::string peer_description() const override;
  asio::any_io_executor get_executor() override;
  std::size_t max_payload() const override { return wire::kMaxFramePayload; }
  std::size_t max_queued_bytes() const override;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::optional<crypto::X25519Public> peer_static_;
  Bytes handshake_hash_;
};

}  // namespace samizdat::transport
