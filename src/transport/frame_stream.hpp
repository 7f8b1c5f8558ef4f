// FrameStream: an authenticated, encrypted, ordered duplex stream of frames — what
// every transport gives after its handshake. All methods must be called from the
// stream's executor (one connection lives on one thread).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport {

class FrameStream {
 public:
  virtual ~FrameStream() = default;

  // The next data frame's payload (padding frames are skipped). Errors:
  // Errc::network "connection closed" when the peer closed or reset, Errc::auth_failed /
  // Errc::malformed for frames that do not authenticate (the stream is closed then),
  // Errc::unavailable after close(). Cancellable (e.g. by awaitable_operators' || with a timer).
  // Only one read_frame may be outstanding at a time.
  virtual asio::awaitable<Result<Bytes>> read_frame() = 0;

  // Queues one frame and returns once it (and everything queued before) has been written
  // to the socket. Errc::limit_exceeded if payload.size() > max_payload().
  virtual asio::awaitable<Status> write_frame(ByteView payload) = 0;

  // Queues one frame without waiting; frames go out in order. Errc::limit_exceeded if the
  // payload is too big or the queue already holds more than max_queued_bytes() (a peer
  // that does not read): callers should close the stream then.
  virtual Status send_frame(ByteView payload) = 0;

  // Waits until everything queued so far has been written to the socket (or fails with
  // the write error / Errc::unavailable if the stream closed first).
  virtual asio::awaitable<Status> flush() = 0;
  // Sealed bytes queued and not yet written.
  virtual std::size_t queued_bytes() const = 0;

  // Closes the connection now (queued frames may be dropped). Idempotent.
  virtual void close() = 0;
  virtual bool is_open() const = 0;

  // The peer's Noise static key, if the handshake pattern authenticated one (IKpsk2 on the
  // server side: the device key; always the server key on the client side).
  virtual const std::optional<crypto::X25519Public>& peer_static() const = 0;
  // Noise handshake hash h (64 bytes): channel binding.
  virtual ByteView handshake_hash() const = 0;
  // For logs: "127.0.0.1:40000". Never includes keys.
  virtual std::string peer_description() const = 0;
  virtual asio::any_io_executor get_executor() = 0;

  virtual std::size_t max_payload() const = 0;
  virtual std::size_t max_queued_bytes() const = 0;
};

}  // namespace samizdat::transport
