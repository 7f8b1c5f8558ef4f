// The WebSocket opening handshake (RFC 6455 section 4), without sockets: the client's
// browser-like upgrade request, the server's check of a request and its 101 answer,
// and the client's check of that answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::ws {

// Largest HTTP head (request or response line plus headers) either side reads.
inline constexpr std::size_t kMaxHttpHead = 8192;

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key || RFC GUID)).
std::string accept_key_for(std::string_view client_key);
// A fresh Sec-WebSocket-Key: base64 of 16 random bytes.
std::string make_client_key();

struct UpgradeRequest {
  std::string path;         // the secret path, e.g. "/chat/3f9a"
  std::string host_header;  // HTTP Host (the hidden name when fronting), with ":port" if not 443
  std::string origin;       // "https://" + host_header, as a browser page on that site sends
  std::string key;          // Sec-WebSocket-Key
  std::string cookie;       // Cookie header value ("name=value"), where a browser puts it; empty: none
};
// The request bytes, with the headers in the order current Chromium sends them.
std::string format_upgrade_request(const UpgradeRequest& request);

// An HTTP/1.x head: request or status line plus headers (names as received).
struct HttpHead {
  // Request: method, target. Response: status.
  std::string method;
  std::string target;
  int status = 0;
  int http_major = 0;
  int http_minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of the first header called `name` (case-insensitive), if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  // Whether header `name` lists `token` (comma-separated, case-insensitive), e.g.
  // Connection: keep-alive, Upgrade.
  [[nodiscard]] bool header_has_token(std::string_view name, std::string_view token) const;
};

// The length of the head at the start of `data` including its blank line, or
// std::nullopt if the blank line has not arrived yet. Errc::limit_exceeded once
// kMaxHttpHead bytes arrived without one.
Result<std::optional<std::size_t>> find_head_end(ByteView data);
// Parses a complete head (exactly what find_head_end measured) with http-parser.
// Errc::malformed if it is not HTTP/1.x.
Result<HttpHead> parse_request_head(ByteView head);
Result<HttpHead> parse_response_head(ByteView head);

// Server side: whether `request` is a WebSocket upgrade (GET, HTTP/1.1+, Upgrade:
// websocket, Connection: upgrade, version 13, a 16-byte key) for exactly `secret_path`
// (the query string is ignored; the path is compared in constant time). Returns the 101
// answer to send; std::nullopt for anything else (the caller serves the cover site).
std::optional<std::string> upgrade_response_for(const HttpHead& request, std::string_view secret_path);

// Client side: checks the server's answer to a request sent with `key`. Errc::protocol
// with what was wrong (not 101, missing Upgrade/Connection, wrong accept key, an
// extension or subprotocol we did not ask for).
Status check_upgrade_response(const HttpHead& response, std::string_view key);

}  // namespace samizdat::transport::ws
