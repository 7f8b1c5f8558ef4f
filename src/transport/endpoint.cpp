#include "transport/endpoint.hpp"

#include <charconv>

#include "util/encoding.hpp"

namespace samizdat::transport {
namespace {

std::string host_for_uri(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

Error bad(std::string_view uri, const std::string& what) {
  return make_error(Errc::invalid_argument,
                    "endpoint '" + std::string(uri) + "': " + what + " (expected SCHEME://HOST:PORT)");
}

Result<std::array<std::uint8_t, 32>> key_param(std::string_view uri, std::string_view name,
                                               std::string_view value) {
  auto decoded = base64url_decode(value);
  if (!decoded.ok() || decoded->size() != 32) {
    return bad(uri, std::string(name) + " must be 32 bytes in base64url");
  }
  std::array<std::uint8_t, 32> out{};
  std::copy(decoded->begin(), decoded->end(), out.begin());
  return out;
}

}  // namespace

std::string Endpoint::to_uri() const {
  return scheme + "://" + host_for_uri(host) + ":" + std::to_string(port) + path;
}

std::string Endpoint::to_uri_with_keys() const {
  std::string uri = to_uri() + "?key=" + base64url_encode(server_static) + "&psk=" + base64url_encode(psk);
  if (!shaping.empty()) uri += "&shaping=" + shaping;
  return uri;
}

Result<Endpoint> parse_endpoint_uri(std::string_view uri) {
  if (uri.size() > 2048) return bad(uri.substr(0, 64), "longer than 2048 characters");
  Endpoint endpoint;
  auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return bad(uri, "missing scheme");
  endpoint.scheme = std::string(uri.substr(0, scheme_end));
  for (char c : endpoint.scheme) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return bad(uri, "scheme must be lower-case letters");
  }
  std::string_view rest = uri.substr(scheme_end + 3);

  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    endpoint.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }

  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad(uri, "unterminated '[' in IPv6 host");
    endpoint.host = std::string(rest.substr(1, close - 1));
    if (close + 1 >= rest.size() || rest[close + 1] != ':') return bad(uri, "missing port");
    port_text = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(uri, "missing port");
    endpoint.host = std::string(rest.substr(0, colon));
    if (endpoint.host.find(':') != std::string::npos) return bad(uri, "IPv6 hosts go in brackets");
    port_text = rest.substr(colon + 1);
  }
  if (endpoint.host.empty()) return bad(uri, "missing host");
  for (char c : endpoint.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '@' || c == '/' || c == '?' || c == '#') {
      return bad(uri, "host contains an invalid character");
    }
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return bad(uri, "port must be a number from 0 to 65535");
  }
  endpoint.port = static_cast<std::uint16_t>(port);

  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return bad(uri, "query parameter without '='");
    auto name = pair.substr(0, eq);
    auto value = pair.substr(eq + 1);
    if (name == "key") {
      endpoint.server_static = SZ_TRY(key_param(uri, name, value));
    } else if (name == "psk") {
      endpoint.psk = SZ_TRY(key_param(uri, name, value));
    } else if (name == "sni") {
      endpoint.sni = std::string(value);
    } else if (name == "host") {
      endpoint.host_header = std::string(value);
    } else if (name == "shaping") {
      endpoint.shaping = std::string(value);
    } else {
      return bad(uri,
                 "unknown query parameter '" + std::string(name) + "' (known: key, psk, sni, host, shaping)");
    }
  }
  return endpoint;
}

}  // namespace samizdat::transport
