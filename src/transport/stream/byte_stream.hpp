// ByteStream: an ordered, reliable duplex byte pipe (a TCP socket, a TLS session, a
// WebSocket, a relayed circuit). The Noise handshake (noise/noise_over_stream.hpp) and the
// frame codec (sealed_frame_stream.hpp) run on any of them, so a transport only has to
// produce a ByteStream.
// All methods must be called from the stream's executor.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Reads at least one byte (at most buffer.size()). Errc::network "connection closed" at
  // EOF or reset; Errc::unavailable after close() (close() cancels a pending read).
  // Only one read_some may be outstanding at a time.
  virtual asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> buffer) = 0;
  // Writes all of `data` (which must stay valid until it returns). Only one write may be
  // outstanding at a time; a read and a write may be outstanding together.
  virtual asio::awaitable<Status> write(ByteView data) = 0;

  // Closes the pipe now; pending operations fail. Idempotent.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // For logs: "127.0.0.1:40000" (never keys or secrets).
  virtual std::string peer_description() const = 0;
  virtual asio::any_io_executor get_executor() = 0;
};

// Reads exactly buffer.size() bytes (the errors of read_some).
asio::awaitable<Status> read_exact(ByteStream& stream, std::span<std::uint8_t> buffer);

// "1.2.3.4:5" / "[::1]:5".
std::string describe_tcp_endpoint(const asio::ip::tcp::endpoint& endpoint);

// A connected TCP socket as a ByteStream.
class TcpByteStream final : public ByteStream {
 public:
  explicit TcpByteStream(asio::ip::tcp::socket socket);
  ~TcpByteStream() override;

  asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> buffer) override;
  asio::awaitable<Status> write(ByteView data) override;
  void close() override;
  bool is_open() const override { return open_; }
  std::string peer_description() const override { return peer_; }
  asio::any_io_executor get_executor() override { return socket_.get_executor(); }

  asio::ip::tcp::socket& socket() { return socket_; }
  // Closes with SO_LINGER 0: the peer sees a RST and no FIN (how listeners reject).
  void reset();
  // Fails the pending operations (reads with Errc::timeout "read cancelled") and leaves the
  // socket open, so its owner decides how it ends.
  void cancel();

  // A socket can be waited on without reading, so a reader of an idle connection needs no
  // buffer: wait_readable(), then read_ready() into a buffer sized by available().
  // Completes once bytes, EOF or an error can be read without blocking; the errors of read_some.
  asio::awaitable<Status> wait_readable();
  // Bytes that can be read now without blocking (0 if unknown).
  std::size_t available() const;
  // Reads what is there without blocking: 0 if nothing is (wait again); the errors of read_some.
  Result<std::size_t> read_ready(std::span<std::uint8_t> buffer);

 private:
  Error read_error(std::error_code ec) const;

  asio::ip::tcp::socket socket_;
  std::string peer_;
  bool open_ = true;
};

// A stream whose first bytes were already read from `inner` (e.g. by an HTTP parser that
// read past the request head): read_some returns `prefix` first, then reads `inner`.
class PrefixedByteStream final : public ByteStream {
 public:
  PrefixedByteStream(Bytes prefix, std::unique_ptr<ByteStream> inner);

  asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> buffer) override;
  asio::awaitable<Status> write(ByteView data) override { return inner_->write(data); }
  void close() override { inner_->close(); }
  bool is_open() const override { return inner_->is_open(); }
  std::string peer_description() const override { return inner_->peer_description(); }
  asio::any_io_executor get_executor() override { return inner_->get_executor(); }

 private:
  Bytes prefix_;
  std::size_t offset_ = 0;
  std::unique_ptr<ByteStream> inner_;
};

}  // namespace samizdat::transport
