// DNS TXT channel parsing (src/reach/channels/dns_message.hpp, dns_txt_map.hpp): a forged or
// junk DNS response and junk TXT strings must give an error, never a crash or over-read.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "reach/channels/dns_message.hpp"
#include "reach/channels/dns_txt_map.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView bytes(data, size);
  std::uint16_t id = size >= 2 ? get_u16_be(data) : 0;
  auto response = reach::parse_txt_response(bytes, id);
  if (response.ok()) (void)reach::reassemble_map_txt_records(response->records);
  // The same bytes as newline-separated TXT strings.
  std::vector<std::string> strings;
  std::string current;
  for (auto byte : bytes) {
    if (byte == '\n') {
      strings.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(byte));
    }
  }
  strings.push_back(std::move(current));
  auto reassembled = reach::reassemble_map_txt_records(strings);
  if (reassembled.ok()) {
    auto records = reach::render_map_txt_records(*reassembled);
    auto again = reach::reassemble_map_txt_records(records);
    if (!again.ok() || *again != *reassembled) std::abort();
  }
  return 0;
}
