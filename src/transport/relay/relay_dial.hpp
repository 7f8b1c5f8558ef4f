// Dialing the network through a volunteer relay (docs/PROTOCOL.md "Relays").
//   1. The client dials the relay like any server (its endpoint's transport, key and PSK),
//      anonymously (NKpsk2): the outer connection.
//   2. It sends one frame, kRelayConnectRequest ("connect me upstream"; it names nothing:
//      the relay knows only its configured network).
//   3. The relay opens a tunnel to its upstream server and answers one frame:
//      0x00 = connected, or 0x01 || UTF-8 reason = failed (the relay then closes).
//   4. The client runs the inner handshake with the real server's key and PSK over the
//      tunnel (tunnel_stream.hpp); the relay copies frame payloads both ways.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <memory>
#include <string_view>

#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "transport/transport.hpp"

namespace samizdat::transport {

inline constexpr std::string_view kRelayConnectRequest = "samizdat-relay/1 connect";
inline constexpr std::uint8_t kRelayConnected = 0x00;
inline constexpr std::uint8_t kRelayFailed = 0x01;

// Reaches `upstream` (an endpoint of the network: its server key and PSK are used for
// the inner handshake; its address is ignored) through the relay at `relay`.
// options.client_static selects IKpsk2 for the inner handshake, as with dial();
// options.timeout bounds each step (outer dial, relay answer, inner handshake).
// Errc::network/timeout/auth_failed naming the step that failed; Errc::unavailable if
// the relay answered that it cannot reach the network.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial_via_relay(asio::any_io_executor executor,
                                                                     const Endpoint& relay,
                                                                     const Endpoint& upstream,
                                                                     DialOptions options);

}  // namespace samizdat::transport
