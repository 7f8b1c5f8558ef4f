// The TCP connect every dialer starts with: resolve, then try each address in turn, all
// before one deadline.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "transport/deadline.hpp"
#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::transport {

// A socket connected to endpoint.host:endpoint.port, with TCP_NODELAY set. Errors name the
// step, which the dialer's failure classes read: Errc::network "cannot resolve 'HOST': ..."
// or "cannot connect to URI: ..."; Errc::timeout "resolving 'HOST' took too long" or
// "connecting to URI timed out".
asio::awaitable<Result<asio::ip::tcp::socket>> connect_tcp(asio::any_io_executor executor,
                                                           const Endpoint& endpoint,
                                                           DeadlineClock::time_point deadline);

}  // namespace samizdat::transport
