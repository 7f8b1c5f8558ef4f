// Reading one HTTP/1.x head (request or response) from a ByteStream.
#pragma once

#include <asio/awaitable.hpp>

#include "transport/stream/byte_stream.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::https {

// Reads until `buffer` (which may already hold bytes) starts with a complete head and
// returns the head's length; the bytes after it stay in `buffer`. Errc::limit_exceeded once
// ws::kMaxHttpHead bytes arrived without the blank line; otherwise the errors of read_some.
asio::awaitable<Result<std::size_t>> read_http_head(ByteStream& stream, Bytes& buffer);

}  // namespace samizdat::transport::https
