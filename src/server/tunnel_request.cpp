#include "server/tunnel_request.hpp"

#include <algorithm>

namespace samizdat::server {

Result<wire::ServerMessage> open_tunnel(ServiceContext& context,
                                        const std::optional<crypto::X25519Public>& peer, bool& requested) {
  if (context.tunnels == nullptr) {
    return make_error(Errc::unavailable, "this server does not accept relay tunnels");
  }
  if (peer) {
    return make_error(Errc::invalid_argument,
                      "OpenTunnel is for anonymous connections (relays dial with NKpsk2)");
  }
  if (!context.tunnels->has_room()) {
    return make_error(Errc::limit_exceeded, "too many relay tunnels are opening: retry in a few seconds");
  }
  requested = true;
  wire::ServerMessage reply;
  reply.mutable_tunnel_opened();
  return reply;
}

std::shared_ptr<TunnelService> make_tunnel_service(const ServerOptions& options,
                                                   TunnelService::AcceptHandler accept) {
  transport::TunnelServerOptions tunnel;
  tunnel.server_static = options.noise_static;
  tunnel.handshake_timeout = options.handshake_timeout;
  for (const auto& endpoint : options.listen) {
    if (std::find(tunnel.psks.begin(), tunnel.psks.end(), endpoint.psk) == tunnel.psks.end()) {
      tunnel.psks.push_back(endpoint.psk);
    }
  }
  return std::make_shared<TunnelService>(std::move(tunnel), std::move(accept));
}

}  // namespace samizdat::server
