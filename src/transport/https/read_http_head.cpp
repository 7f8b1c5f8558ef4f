#include "transport/https/read_http_head.hpp"

#include "transport/wss/websocket_handshake.hpp"

namespace samizdat::transport::https {

asio::awaitable<Result<std::size_t>> read_http_head(ByteStream& stream, Bytes& buffer) {
  constexpr std::size_t kReadChunk = 4096;
  for (;;) {
    auto end = ws::find_head_end(buffer);
    if (!end.ok()) co_return std::move(end).error();
    if (end->has_value()) co_return **end;
    const std::size_t old_size = buffer.size();
    buffer.resize(old_size + kReadChunk);
    std::span<std::uint8_t> space(buffer.data() + old_size, kReadChunk);
    auto n = co_await stream.read_some(space);
    buffer.resize(old_size + (n.ok() ? *n : 0));
    if (!n.ok()) co_return std::move(n).error();
  }
}

}  // namespace samizdat::transport::https
