// Packets from the AF_PACKET socket: the parser must stay inside the buffer.
#include <cstddef>
#include <cstdint>

#include "censor/dpi/ip_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  samizdat::ByteView bytes(data, size);
  auto packet = samizdat::censor::parse_ip_packet(bytes);
  if (packet && !packet->payload.empty()) {
    const auto* begin = packet->payload.data();
    if (begin < data || begin + packet->payload.size() > data + size) __builtin_trap();
  }
  return 0;
}
