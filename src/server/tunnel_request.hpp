// The OpenTunnel request of the session protocol, and the TunnelService a server builds
// from its options (kept out of session_handler.cpp and server.cpp).
#pragma once

#include <optional>

#include "samizdat/session.pb.h"
#include "server/server.hpp"
#include "server/service_context.hpp"
#include "server/tunnel.hpp"

namespace samizdat::server {

// Answers OpenTunnel: refused for authenticated connections (relays dial anonymously)
// and when the server has no room; otherwise sets `requested`.
Result<wire::ServerMessage> open_tunnel(ServiceContext& context,
                                        const std::optional<crypto::X25519Public>& peer, bool& requested);

// A TunnelService accepting the inner handshake with the server key and the PSKs of
// every listen endpoint.
std::shared_ptr<TunnelService> make_tunnel_service(const ServerOptions& options,
                                                   TunnelService::AcceptHandler accept);

}  // namespace samizdat::server
