#include "transport/stream/byte_stream.hpp"

#include <algorithm>
#include <asio/write.hpp>
#include <cstring>

#include "util/coro.hpp"

namespace samizdat::transport {

std::string describe_tcp_endpoint(const asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

asio::awaitable<Status> read_exact(ByteStream& stream, std::span<std::uint8_t> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    auto rest = buffer.subspan(done);
    auto n = co_await stream.read_some(rest);
    if (!n.ok()) co_return std::move(n).error();
    done += *n;
  }
  co_return Status{};
}

// ---------------------------------------------------------------------------------
TcpByteStream::TcpByteStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  std::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("(unconnected)") : describe_tcp_endpoint(peer);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // read_ready must never block the thread (asynchronous operations are unaffected).
  socket_.non_blocking(true, ec);
}

TcpByteStream::~TcpByteStream() { close(); }

Error TcpByteStream::read_error(std::error_code ec) const {
  if (ec == asio::error::operation_aborted) {
    if (!open_) return make_error(Errc::unavailable, "the connection was closed");
    return make_error(Errc::timeout, "read cancelled");
  }
  if (ec == asio::error::eof || ec == asio::error::connection_reset) {
    return make_error(Errc::network, "connection closed by peer");
  }
  return make_error(Errc::network, "read failed: " + ec.message());
}

asio::awaitable<Result<std::size_t>> TcpByteStream::read_some(std::span<std::uint8_t> buffer) {
  if (!open_) co_return make_error(Errc::unavailable, "the connection is closed");
  if (buffer.empty()) co_return make_error(Errc::invalid_argument, "read_some needs a non-empty buffer");
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()), use_tuple);
  if (!ec) co_return n;
  co_return read_error(ec);
}

asio::awaitable<Status> TcpByteStream::wait_readable() {
  if (!open_) co_return make_error(Errc::unavailable, "the connection is closed");
  auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, use_tuple);
  if (!ec) co_return Status{};
  co_return read_error(ec);
}

std::size_t TcpByteStream::available() const {
  std::error_code ignored;
  return socket_.available(ignored);
}

Result<std::size_t> TcpByteStream::read_ready(std::span<std::uint8_t> buffer) {
  if (!open_) return make_error(Errc::unavailable, "the connection is closed");
  if (buffer.empty()) return make_error(Errc::invalid_argument, "read_ready needs a non-empty buffer");
  std::error_code ec;
  std::size_t n = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
  if (!ec) return n;
  if (ec == asio::error::would_block || ec == asio::error::try_again) return std::size_t{0};
  return read_error(ec);
}

asio::awaitable<Status> TcpByteStream::write(ByteView data) {
  if (!open_) co_return make_error(Errc::unavailable, "the connection is closed");
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), use_tuple);
  (void)n;
  if (!ec) co_return Status{};
  if (ec == asio::error::operation_aborted && !open_) {
    co_return make_error(Errc::unavailable, "the connection was closed");
  }
  co_return make_error(Errc::network, "write failed: " + ec.message());
}

void TcpByteStream::close() {
  if (!open_) return;
  open_ = false;
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void TcpByteStream::reset() {
  if (!open_) return;
  open_ = false;
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

void TcpByteStream::cancel() {
  std::error_code ignored;
  socket_.cancel(ignored);
}

// ---------------------------------------------------------------------------------
PrefixedByteStream::PrefixedByteStream(Bytes prefix, std::unique_ptr<ByteStream> inner)
    : prefix_(std::move(prefix)), inner_(std::move(inner)) {}

asio::awaitable<Result<std::size_t>> PrefixedByteStream::read_some(std::span<std::uint8_t> buffer) {
  if (offset_ < prefix_.size()) {
    if (!inner_->is_open()) co_return make_error(Errc::unavailable, "the connection is closed");
    std::size_t n = std::min(buffer.size(), prefix_.size() - offset_);
    std::memcpy(buffer.data(), prefix_.data() + offset_, n);
    offset_ += n;
    if (offset_ == prefix_.size()) Bytes().swap(prefix_), offset_ = 0;
    co_return n;
  }
  co_return co_await inner_->read_some(buffer);
}

}  // namespace samizdat::transport
