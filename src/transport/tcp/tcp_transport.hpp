// The tcp transport: plain TCP carrying a Noise handshake and then the frame codec.
// Wire format (docs/PROTOCOL.md "Transport"):
//   client -> server: u16be length || Noise message 1 (IKpsk2 or NKpsk2), whose payload
//                     proves knowledge of the PSK (see noise_handshake.hpp)
//   server -> client: u16be length || Noise message 2
//   then both directions: frames sealed by wire::FrameEncoder with split() keys.
// The server tells the two patterns apart by trying IKpsk2 then NKpsk2 on message 1;
// anything that authenticates as neither is junk and the connection is closed.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "transport/transport.hpp"

namespace samizdat::transport {

inline constexpr std::string_view kNoiseIK = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::string_view kNoiseNK = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b";
// Mixed into every handshake: binds it to this protocol and version.
inline constexpr std::string_view kTcpPrologue = "samizdat/tcp/1";
// Largest handshake message either side accepts (the real ones are < 200 bytes).
inline constexpr std::size_t kMaxHandshakeMessage = 1024;

std::shared_ptr<Transport> make_tcp_transport();

}  // namespace samizdat::transport
