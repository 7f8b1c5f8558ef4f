// Channel 2: fetch the signed map from a static HTTPS mirror (MapMirror in network_map.hpp).
// One HTTP/1.1 GET over TLS (OpenSSL through asio::ssl) to the URL's host and port, with SNI
// = front_sni (or the URL host) and Host = front_host (or the URL host): domain fronting.
// The certificate is NOT verified: the map's signature is the only trust, and a censor who
// can mint certificates gains nothing. Accepts 200 with Content-Length or chunked bodies.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <string_view>

#include "reach/map/network_map.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

struct MirrorFetchOptions {
  std::chrono::milliseconds timeout{10000};  // connect + TLS + request + body
  std::size_t max_bytes = 64 * 1024;         // refuse bigger bodies (kMaxSignedMapBytes)
};

// Candidate map bytes (pass them to accept_map). Errc::invalid_argument (bad URL),
// Errc::network / Errc::timeout, Errc::protocol (not HTTP 200, bad response),
// Errc::limit_exceeded (body too big).
// Pass named variables, not temporaries (GCC 12 coroutine bug: util/coro.hpp).
asio::awaitable<Result<Bytes>> fetch_map_from_mirror(MapMirror mirror, MirrorFetchOptions options);
// The same on a private io_context, for callers outside a coroutine.
Result<Bytes> fetch_map_from_mirror_blocking(const MapMirror& mirror, const MirrorFetchOptions& options);

// The body of a whole HTTP/1.1 response (read until the server closed): status must be 200;
// Content-Length or chunked bodies. Errc::protocol or Errc::limit_exceeded. (Exposed for the fuzzer.)
Result<Bytes> parse_mirror_response(std::string_view response, std::size_t max_bytes);

}  // namespace samizdat::reach
