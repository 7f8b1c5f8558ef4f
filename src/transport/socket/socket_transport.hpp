// A Transport made of its parts: a scheme, how a client dials (connect_tcp, then whatever
// the transport layers on the socket) and how a server listens (listen_tcp with the
// transport's ServeConnection). Every socket transport (tcp, obfs, tls, wss) is one.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "transport/deadline.hpp"
#include "transport/transport.hpp"

namespace samizdat::transport {

struct SocketTransportParts {
  std::string scheme;
  // Dials `endpoint`, finishing connect and every handshake by `deadline` (the dial's
  // options.timeout from now).
  std::function<asio::awaitable<Result<std::unique_ptr<FrameStream>>>(
      asio::any_io_executor executor, const Endpoint& endpoint, DialOptions options,
      DeadlineClock::time_point deadline)>
      dial;
  std::function<Result<std::unique_ptr<Listener>>(asio::any_io_executor executor, const Endpoint& endpoint,
                                                  ListenOptions options)>
      listen;
};

std::shared_ptr<Transport> make_socket_transport(SocketTransportParts parts);

}  // namespace samizdat::transport
