// The tcp transport: plain TCP carrying a Noise handshake and then the frame codec.
// Wire format (docs/PROTOCOL.md "Transport"):
//   client -> server: u16be length || Noise message 1 (IKpsk2 or NKpsk2), whose payload
//                     proves knowledge of the PSK (see noise_handshake.hpp)
//   server -> client: u16be length || Noise message 2
//   then both directions: frames sealed by wire::FrameEncoder with split() keys.
// The server tells the two patterns apart by trying IKpsk2 then NKpsk2 on message 1;
// anything that authenticates as neither is junk and the connection is reset.
// Handshake: noise/noise_handshake.hpp; listener skeleton: socket/socket_listener.hpp.
#pragma once

#include <memory>

#include "transport/noise/noise_handshake.hpp"
#include "transport/transport.hpp"

namespace samizdat::transport {

std::shared_ptr<Transport> make_tcp_transport();

}  // namespace samizdat::transport
