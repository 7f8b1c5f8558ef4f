#include "censor/dpi/ip_packet.hpp"

namespace samizdat::censor {

std::optional<IpPacket> parse_ip_packet(ByteView packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return std::nullopt;
  const std::size_t header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  std::size_t total = get_u16_be(&packet[2]);
  // With segmentation offload the kernel may hand over a super-packet with total 0.
  if (total == 0) total = packet.size();
  if (header < 20 || total < header || total > packet.size()) return std::nullopt;
  const auto fragment = get_u16_be(&packet[6]);
  if ((fragment & 0x1fff) != 0) return std::nullopt;  // non-first fragments carry no ports
  IpPacket out;
  out.protocol = packet[9];
  out.source = get_u32_be(&packet[12]);
  out.destination = get_u32_be(&packet[16]);
  ByteView transport = packet.subspan(header, total - header);
  if (out.protocol == 6) {
    if (transport.size() < 20) return std::nullopt;
    const std::size_t offset = static_cast<std::size_t>(transport[12] >> 4) * 4;
    if (offset < 20 || offset > transport.size()) return std::nullopt;
    out.source_port = get_u16_be(&transport[0]);
    out.destination_port = get_u16_be(&transport[2]);
    out.tcp_flags = transport[13];
    out.payload = transport.subspan(offset);
  } else if (out.protocol == 17) {
    if (transport.size() < 8) return std::nullopt;
    out.source_port = get_u16_be(&transport[0]);
    out.destination_port = get_u16_be(&transport[2]);
    out.payload = transport.subspan(8);
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace samizdat::censor
