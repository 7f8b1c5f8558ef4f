#include "transport/socket/connect_tcp.hpp"

#include "util/coro.hpp"

namespace samizdat::transport {

using asio::ip::tcp;

asio::awaitable<Result<tcp::socket>> connect_tcp(asio::any_io_executor executor, const Endpoint& endpoint,
                                                 DeadlineClock::time_point deadline) {
  tcp::socket socket(executor);
  tcp::resolver resolver(executor);
  // Closing the socket aborts a connect; the resolver is cancelled too, though a
  // getaddrinfo already running finishes first (a numeric host never blocks).
  Deadline guard(executor, deadline, [&socket, &resolver] {
    std::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
  });
  auto [resolve_error, addresses] = co_await resolver.async_resolve(
      endpoint.host, std::to_string(endpoint.port), tcp::resolver::numeric_service, use_tuple);
  if (guard.fired()) co_return make_error(Errc::timeout, "resolving '" + endpoint.host + "' took too long");
  if (resolve_error) {
    co_return make_error(Errc::network, "cannot resolve '" + endpoint.host + "': " + resolve_error.message());
  }
  // One address at a time, so the deadline ends the whole attempt rather than one address.
  std::error_code connect_error = asio::error::host_not_found;
  for (const auto& address : addresses) {
    if (guard.fired()) break;
    std::error_code ignored;
    socket.close(ignored);
    auto [ec] = co_await socket.async_connect(address.endpoint(), use_tuple);
    connect_error = ec;
    if (!ec) break;
  }
  if (guard.fired()) co_return make_error(Errc::timeout, "connecting to " + endpoint.to_uri() + " timed out");
  if (connect_error) {
    co_return make_error(Errc::network,
                         "cannot connect to " + endpoint.to_uri() + ": " + connect_error.message());
  }
  std::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  co_return std::move(socket);
}

}  // namespace samizdat::transport
