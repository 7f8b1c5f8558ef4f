// A minimal HTTP/1.1 server loop over a ByteStream for the https-based transports: it
// answers every request from the CoverSite (keep-alive, nginx's timeouts) until the
// transport's `intercept` recognises one as a Samizdat client, then hands the stream back.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "transport/https/cover_site.hpp"
#include "transport/stream/byte_stream.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "util/result.hpp"

namespace samizdat::transport::https {

struct HttpServeOptions {
  // Time for a request head to arrive: the first one (nginx client_header_timeout) and
  // later ones on a kept-alive connection (nginx keepalive_timeout).
  std::chrono::milliseconds header_timeout{60'000};
  std::chrono::milliseconds keepalive_timeout{75'000};
  std::size_t max_requests = 1000;  // per connection (nginx keepalive_requests)
};

struct InterceptedRequest {
  std::unique_ptr<ByteStream> stream;  // positioned right after the request head
  ws::HttpHead request;
  Bytes rest;  // bytes that arrived after the head (they belong to what follows)
};

// Serves `site` on `stream` until `intercept` returns true for a request (nothing has been
// answered to that request yet). Otherwise the connection ends as nginx's would (peer
// closes, timeout, 400 for a bad request, Connection: close) and the error says why; the
// stream is closed then.
asio::awaitable<Result<InterceptedRequest>> serve_cover_site_until(
    std::unique_ptr<ByteStream> stream, const CoverSite& site,
    const std::function<bool(const ws::HttpHead&)>& intercept, const HttpServeOptions& options);

}  // namespace samizdat::transport::https
