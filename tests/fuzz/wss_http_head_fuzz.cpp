// HTTP heads arrive from anyone who connects to a wss listener (requests) or from
// whatever answers a wss client (responses). Parsing them and deciding on the upgrade
// must never crash, whatever the bytes.
#include <cstddef>
#include <cstdint>

#include "transport/wss/websocket_handshake.hpp"

using namespace samizdat;
using namespace samizdat::transport::ws;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(data, size);
  auto end = find_head_end(input);
  ByteView head = (end.ok() && end->has_value()) ? input.first(**end) : input;
  if (auto request = parse_request_head(head); request.ok()) {
    auto answer = upgrade_response_for(*request, "/secret");
    if (answer && request->method != "GET") __builtin_trap();
    (void)request->header_has_token("Connection", "upgrade");
  }
  if (auto response = parse_response_head(head); response.ok()) {
    (void)check_upgrade_response(*response, "dGhlIHNhbXBsZSBub25jZQ==");
  }
  return 0;
}
