#include "transport/wss/websocket_handshake.hpp"

#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "crypto/secret.hpp"

namespace samizdat::transport::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 section 1.3

std::string base64_standard(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A Sec-WebSocket-Key must be base64 of exactly 16 bytes: 22 characters and "==".
bool is_valid_client_key(std::string_view key) {
  key = trim(key);
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

// Collects the head into an HttpHead through http-parser's callbacks.
struct HeadCollector {
  HttpHead head;
  bool in_value = false;
  bool complete = false;

  static HeadCollector& of(http_parser* parser) { return *static_cast<HeadCollector*>(parser->data); }
  static int on_url(http_parser* p, const char* at, std::size_t n) {
    of(p).head.target.append(at, n);
    return 0;
  }
  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    auto& self = of(p);
    if (self.in_value || self.head.headers.empty()) {
      self.head.headers.emplace_back();
      self.in_value = false;
    }
    self.head.headers.back().first.append(at, n);
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    auto& self = of(p);
    if (self.head.headers.empty()) return 1;
    self.in_value = true;
    self.head.headers.back().second.append(at, n);
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    of(p).complete = true;
    return 0;
  }
};

Result<HttpHead> parse_head(ByteView head, http_parser_type type) {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = &HeadCollector::on_url;
  settings.on_header_field = &HeadCollector::on_header_field;
  settings.on_header_value = &HeadCollector::on_header_value;
  settings.on_headers_complete = &HeadCollector::on_headers_complete;
  http_parser parser;
  http_parser_init(&parser, type);
  HeadCollector collector;
  parser.data = &collector;
  http_parser_execute(&parser, &settings, reinterpret_cast<const char*>(head.data()), head.size());
  auto error = HTTP_PARSER_ERRNO(&parser);
  // HPE_CB_headers_complete never happens (the callback returns 0); a paused parser
  // after an upgrade head is fine.
  if ((error != HPE_OK && error != HPE_PAUSED) || !collector.complete) {
    return make_error(Errc::malformed, std::string("not an HTTP/1.x ") +
                                           (type == HTTP_REQUEST ? "request" : "response") + " head (" +
                                           http_errno_description(error) + ")");
  }
  collector.head.http_major = parser.http_major;
  collector.head.http_minor = parser.http_minor;
  if (type == HTTP_REQUEST) {
    collector.head.method = http_method_str(static_cast<http_method>(parser.method));
  } else {
    collector.head.status = static_cast<int>(parser.status_code);
  }
  return std::move(collector.head);
}

}  // namespace

std::string accept_key_for(std::string_view client_key) {
  std::string input(trim(client_key));
  input += kGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  return base64_standard(digest);
}

std::string make_client_key() {
  std::array<std::uint8_t, 16> nonce{};
  crypto::fill_random(nonce);
  return base64_standard(nonce);
}

std::string format_upgrade_request(const UpgradeRequest& request) {
  std::string out;
  out.reserve(640);
  out += "GET " + request.path + " HTTP/1.1\r\n";
  out += "Host: " + request.host_header + "\r\n";
  out += "Connection: Upgrade\r\n";
  out += "Pragma: no-cache\r\n";
  out += "Cache-Control: no-cache\r\n";
  out +=
      "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36\r\n";
  out += "Upgrade: websocket\r\n";
  out += "Origin: " + request.origin + "\r\n";
  out += "Sec-WebSocket-Version: 13\r\n";
  out += "Accept-Encoding: gzip, deflate, br\r\n";
  out += "Accept-Language: en-US,en;q=0.9\r\n";
  if (!request.cookie.empty()) out += "Cookie: " + request.cookie + "\r\n";
  out += "Sec-WebSocket-Key: " + request.key + "\r\n";
  // Chromium always offers compression; our server never accepts it (and a client that
  // sees it accepted fails, see check_upgrade_response).
  out += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  out += "\r\n";
  return out;
}

std::optional<std::string_view> HttpHead::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return trim(value);
  }
  return std::nullopt;
}

bool HttpHead::header_has_token(std::string_view name, std::string_view token) const {
  for (const auto& [key, value] : headers) {
    if (!iequals(key, name)) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      if (iequals(trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

Result<std::optional<std::size_t>> find_head_end(ByteView data) {
  auto text = as_chars(data.first(std::min(data.size(), kMaxHttpHead)));
  auto end = text.find("\r\n\r\n");
  if (end != std::string_view::npos) return std::optional<std::size_t>(end + 4);
  if (data.size() >= kMaxHttpHead) {
    return make_error(Errc::limit_exceeded,
                      "HTTP head longer than " + std::to_string(kMaxHttpHead) + " bytes");
  }
  return std::optional<std::size_t>();
}

Result<HttpHead> parse_request_head(ByteView head) { return parse_head(head, HTTP_REQUEST); }
Result<HttpHead> parse_response_head(ByteView head) { return parse_head(head, HTTP_RESPONSE); }

std::optional<std::string> upgrade_response_for(const HttpHead& request, std::string_view secret_path) {
  if (request.method != "GET") return std::nullopt;
  if (request.http_major != 1 || request.http_minor < 1) return std::nullopt;
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (secret_path.empty() || path.size() != secret_path.size() ||
      !equal_constant_time(as_bytes(path), as_bytes(secret_path))) {
    return std::nullopt;
  }
  if (!request.header_has_token("Upgrade", "websocket")) return std::nullopt;
  if (!request.header_has_token("Connection", "upgrade")) return std::nullopt;
  auto version = request.header("Sec-WebSocket-Version");
  if (!version || *version != "13") return std::nullopt;
  auto key = request.header("Sec-WebSocket-Key");
  if (!key || !is_valid_client_key(*key)) return std::nullopt;
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         accept_key_for(*key) + "\r\n\r\n";
}

Status check_upgrade_response(const HttpHead& response, std::string_view key) {
  if (response.status != 101) {
    return make_error(Errc::protocol, "the server answered the WebSocket upgrade with HTTP status " +
                                          std::to_string(response.status) +
                                          " instead of 101 (wrong path, or a proxy that does not pass "
                                          "WebSocket upgrades)");
  }
  if (!response.header_has_token("Upgrade", "websocket") ||
      !response.header_has_token("Connection", "upgrade")) {
    return make_error(Errc::protocol, "the 101 answer lacks 'Upgrade: websocket' / 'Connection: upgrade'");
  }
  auto accept = response.header("Sec-WebSocket-Accept");
  if (!accept || *accept != accept_key_for(key)) {
    return make_error(Errc::protocol, "the 101 answer has a wrong Sec-WebSocket-Accept");
  }
  if (response.header("Sec-WebSocket-Extensions") || response.header("Sec-WebSocket-Protocol")) {
    return make_error(Errc::protocol,
                      "the server accepted a WebSocket extension or subprotocol we cannot use");
  }
  return {};
}

}  // namespace samizdat::transport::ws
