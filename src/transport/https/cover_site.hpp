// CoverSite: the static website every visitor who does not authenticate gets from a
// tls/wss listener, answered the way nginx answers (Server, Date, Content-Type,
// Content-Length, Last-Modified, ETag, keep-alive, its 301/304/400/404/405 pages), so a
// browser, curl or an active prober sees an ordinary site.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "transport/wss/websocket_handshake.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::https {

class CoverSite {
 public:
  // Serves files under `root`. An empty root serves nginx's default welcome page at "/"
  // (and 404 elsewhere). Errc::not_found if a non-empty root is not a directory.
  static Result<std::shared_ptr<const CoverSite>> open(const std::filesystem::path& root);

  struct Response {
    Bytes bytes;  // status line, headers and body
    int status = 200;
    bool keep_alive = true;  // false: close the connection after sending
  };
  // The answer to one request (GET and HEAD serve files; other methods get 405).
  [[nodiscard]] Response respond(const ws::HttpHead& request) const;
  // The answer to bytes that are not an HTTP request (400, then close).
  [[nodiscard]] Response bad_request() const;

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

 private:
  explicit CoverSite(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;  // canonical; empty = built-in welcome page
};

// "Thu, 26 Nov 2026 06:20:00 GMT".
std::string http_date(std::int64_t unix_seconds);

// The shipped default cover site (share/cover-site): next to or above the running
// binary, in the source tree, or installed under /usr/local/share/samizdat or
// /usr/share/samizdat. Empty if none is found.
std::filesystem::path find_default_cover_site();

}  // namespace samizdat::transport::https
