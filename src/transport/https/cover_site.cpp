#include "transport/https/cover_site.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <system_error>

#include "util/clock.hpp"

namespace samizdat::transport::https {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxFileSize = 16 * 1024 * 1024;

// nginx's built-in error pages (with server_tokens off): the exact bodies it sends.
std::string error_page(int status, std::string_view reason) {
  std::string title = std::to_string(status) + " " + std::string(reason);
  return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
         "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
}

constexpr std::string_view kWelcomePage =
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light "
    "dark; "
    "}\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n"
    "</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is "
    "successfully "
    "installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and "
    "support "
    "please refer to\n<a href=\"http://nginx.org/\">nginx.org</a>.<br/>\nCommercial support is available at\n"
    "<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n<p><em>Thank you for using "
    "nginx.</em></p>\n</body>\n"
    "</html>\n";

std::string_view reason_for(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Not Allowed";
    default:
      return "Internal Server Error";
  }
}

std::string content_type_for(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
      {".html", "text/html"},
      {".htm", "text/html"},
      {".css", "text/css"},
      {".js", "application/javascript"},
      {".json", "application/json"},
      {".txt", "text/plain"},
      {".xml", "text/xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".pdf", "application/pdf"},
  }};
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return std::string(type);
  }
  return "application/octet-stream";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The request target's path, percent-decoded, or nullopt if it is not a clean absolute
// path (nginx answers 400 to those, e.g. "/../etc/passwd").
std::optional<std::string> clean_path(std::string_view target) {
  if (auto q = target.find_first_of("?#"); q != std::string_view::npos) target = target.substr(0, q);
  if (target.empty() || target[0] != '/') return std::nullopt;
  std::string decoded;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '%') {
      if (i + 2 >= target.size()) return std::nullopt;
      int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return std::nullopt;
      decoded.push_back(c);
      i += 2;
    } else {
      decoded.push_back(target[i]);
    }
  }
  // Resolve "." and "..": climbing above the root is a bad request.
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= decoded.size()) {
    std::size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    std::string part = decoded.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  if (decoded.size() > 1 && decoded.back() == '/' && out.size() > 1) out += "/";
  return out;
}

CoverSite::Response finish(int status, std::string_view content_type, std::string_view body, bool head_only,
                           bool keep_alive, std::string_view extra_headers = {}) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_for(status)) + "\r\n";
  head += "Server: nginx\r\n";
  head += "Date: " + http_date(unix_millis() / 1000) + "\r\n";
  if (status != 304) {
    head += "Content-Type: " + std::string(content_type) + "\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  // nginx orders Last-Modified before Connection and ETag/Location after it.
  std::string_view last_modified, after;
  if (auto pos = extra_headers.find("Last-Modified:"); pos == 0) {
    auto end = extra_headers.find("\r\n") + 2;
    last_modified = extra_headers.substr(0, end);
    after = extra_headers.substr(end);
  } else {
    after = extra_headers;
  }
  head += last_modified;
  head += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  head += after;
  head += "\r\n";
  CoverSite::Response response;
  response.status = status;
  response.keep_alive = keep_alive;
  response.bytes.assign(head.begin(), head.end());
  if (!head_only && status != 304) response.bytes.insert(response.bytes.end(), body.begin(), body.end());
  return response;
}

CoverSite::Response error_response(int status, bool head_only, bool keep_alive) {
  auto body = error_page(status, reason_for(status));
  return finish(status, "text/html", body, head_only, keep_alive);
}

bool wants_keep_alive(const ws::HttpHead& request) {
  if (request.header_has_token("Connection", "close")) return false;
  if (request.http_major == 1 && request.http_minor == 0)
    return request.header_has_token("Connection", "keep-alive");
  return true;
}

}  // namespace

std::string http_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

Result<std::shared_ptr<const CoverSite>> CoverSite::open(const fs::path& root) {
  if (root.empty()) return std::shared_ptr<const CoverSite>(new CoverSite({}));
  std::error_code ec;
  auto canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return make_error(Errc::not_found,
                      "cover site directory '" + root.string() +
                          "' does not exist (set cover_site in config.toml to a directory of "
                          "static files)");
  }
  return std::shared_ptr<const CoverSite>(new CoverSite(canonical));
}

CoverSite::Response CoverSite::bad_request() const { return error_response(400, false, false); }

CoverSite::Response CoverSite::respond(const ws::HttpHead& request) const {
  bool keep_alive = wants_keep_alive(request);
  bool head_only = request.method == "HEAD";
  if (request.method != "GET" && !head_only) return error_response(405, false, keep_alive);
  auto path = clean_path(request.target);
  if (!path) return error_response(400, head_only, false);

  if (root_.empty()) {
    if (*path == "/" || *path == "/index.html") {
      return finish(
          200, "text/html", kWelcomePage, head_only, keep_alive,
          "Last-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\nETag: \"6434bbbe-267\"\r\nAccept-Ranges: "
          "bytes\r\n");
    }
    return error_response(404, head_only, keep_alive);
  }

  std::error_code ec;
  fs::path file = root_ / fs::path(path->substr(1));
  auto status = fs::status(file, ec);
  if (!ec && fs::is_directory(status)) {
    if (path->back() != '/') {
      std::string location = *path + "/";
      return finish(301, "text/html", error_page(301, reason_for(301)), head_only, keep_alive,
                    "Location: " + location + "\r\n");
    }
    file /= "index.html";
    status = fs::status(file, ec);
  }
  // Symlinks out of the root and anything but regular files are not served.
  auto canonical = fs::canonical(file, ec);
  if (ec || !fs::is_regular_file(status)) return error_response(404, head_only, keep_alive);
  auto relative = canonical.lexically_relative(root_);
  if (relative.empty() || *relative.begin() == "..") return error_response(404, head_only, keep_alive);
  auto size = fs::file_size(canonical, ec);
  if (ec || size > kMaxFileSize) return error_response(404, head_only, keep_alive);
  auto mtime = fs::last_write_time(canonical, ec);
  auto mtime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                           .count();
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(mtime_seconds),
                static_cast<unsigned long long>(size));
  std::string validators = "Last-Modified: " + http_date(mtime_seconds) + "\r\nETag: " + etag + "\r\n";
  if (auto match = request.header("If-None-Match"); match && *match == etag) {
    return finish(304, "", "", true, keep_alive, validators);
  }
  // Read for HEAD too: its Content-Length is the GET body's.
  std::string body(size, '\0');
  std::ifstream in(canonical, std::ios::binary);
  if (!in.read(body.data(), static_cast<std::streamsize>(size)))
    return error_response(404, head_only, keep_alive);
  return finish(200, content_type_for(canonical), body, head_only, keep_alive,
                validators + "Accept-Ranges: bytes\r\n");
}

fs::path find_default_cover_site() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto dir = self.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
      candidates.push_back(dir / "share" / "cover-site");
      candidates.push_back(dir / "share" / "samizdat" / "cover-site");
    }
  }
#ifdef SAMIZDAT_SOURCE_DIR
  candidates.push_back(fs::path(SAMIZDAT_SOURCE_DIR) / "share" / "cover-site");
#endif
  candidates.push_back("/usr/local/share/samizdat/cover-site");
  candidates.push_back("/usr/share/samizdat/cover-site");
  for (const auto& candidate : candidates) {
    if (fs::is_regular_file(candidate / "index.html", ec)) return candidate;
  }
  return {};
}

}  // namespace samizdat::transport::https
