// Layer-3 packets as the AF_PACKET socket delivers them: IPv4 with a TCP or UDP
// header. Anything else, or anything truncated, is rejected, never read past.
#pragma once

#include <cstdint>
#include <optional>

#include "util/bytes.hpp"

namespace samizdat::censor {

struct IpPacket {
  std::uint32_t source = 0, destination = 0;  // host order
  std::uint8_t protocol = 0;                  // 6 TCP, 17 UDP
  std::uint16_t source_port = 0, destination_port = 0;
  std::uint8_t tcp_flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
  ByteView payload;            // transport payload (within the IP total length)
};

inline constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

std::optional<IpPacket> parse_ip_packet(ByteView packet);

}  // namespace samizdat::censor
