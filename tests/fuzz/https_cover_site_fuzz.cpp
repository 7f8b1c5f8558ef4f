// The cover site's answer to an HTTP request head from the network (inside TLS): the head
// is parsed, then the request target is decoded and mapped to a file under the shipped
// cover site. Must never crash, never read outside the site, and always produce an
// HTTP/1.1 answer.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/https/cover_site.hpp"
#include "transport/wss/websocket_handshake.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto site = [] {
    auto opened = transport::https::CoverSite::open(transport::https::find_default_cover_site());
    if (!opened.ok()) std::abort();
    return *opened;
  }();
  ByteView input(data, size);
  auto end = transport::ws::find_head_end(input);
  if (!end.ok() || !end->has_value()) return 0;
  auto head = transport::ws::parse_request_head(input.first(**end));
  auto response = head.ok() ? site->respond(*head) : site->bad_request();
  std::string_view text(reinterpret_cast<const char*>(response.bytes.data()), response.bytes.size());
  if (text.substr(0, 9) != "HTTP/1.1 ") std::abort();
  if (text.find("root:") != std::string_view::npos) std::abort();  // /etc/passwd leaked
  return 0;
}
