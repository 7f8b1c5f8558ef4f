#include "transport/https/http_server.hpp"

#include "transport/deadline.hpp"
#include "transport/https/read_http_head.hpp"

namespace samizdat::transport::https {
namespace {

bool has_body(const ws::HttpHead& request) {
  if (request.header("Transfer-Encoding")) return true;
  auto length = request.header("Content-Length");
  return length && *length != "0";
}

}  // namespace

asio::awaitable<Result<InterceptedRequest>> serve_cover_site_until(
    std::unique_ptr<ByteStream> stream, const CoverSite& site,
    const std::function<bool(const ws::HttpHead&)>& intercept, const HttpServeOptions& options) {
  Bytes buffer;
  for (std::size_t served = 0; served < options.max_requests; ++served) {
    Deadline deadline(*stream,
                      deadline_after(served == 0 ? options.header_timeout : options.keepalive_timeout));
    auto head_length = co_await read_http_head(*stream, buffer);
    if (!head_length.ok()) {
      if (head_length.error().code == Errc::limit_exceeded) {
        // nginx answers an oversized head with 400 as well.
        auto response = site.bad_request();
        ByteView bytes = response.bytes;
        co_await stream->write(bytes);
      }
      stream->close();
      if (deadline.fired()) co_return make_error(Errc::timeout, "no HTTP request arrived in time");
      co_return std::move(head_length).error();
    }
    ByteView head_bytes(buffer.data(), *head_length);
    auto request = ws::parse_request_head(head_bytes);
    if (!request.ok()) {
      auto response = site.bad_request();
      ByteView bytes = response.bytes;
      co_await stream->write(bytes);
      stream->close();
      co_return std::move(request).error();
    }
    Bytes rest(buffer.begin() + static_cast<std::ptrdiff_t>(*head_length), buffer.end());
    if (intercept(*request)) {
      InterceptedRequest intercepted{std::move(stream), std::move(*request), std::move(rest)};
      co_return intercepted;
    }
    auto response = site.respond(*request);
    // Request bodies are not read: answer and close instead of misparsing the body as
    // the next request.
    if (has_body(*request)) response.keep_alive = false;
    ByteView bytes = response.bytes;
    auto written = co_await stream->write(bytes);
    if (!written.ok()) {
      stream->close();
      co_return std::move(written).error();
    }
    if (!response.keep_alive) {
      stream->close();
      co_return make_error(Errc::not_found, "served the cover site; the connection is done");
    }
    buffer = std::move(rest);
  }
  stream->close();
  co_return make_error(Errc::limit_exceeded, "too many requests on one connection");
}

}  // namespace samizdat::transport::https
