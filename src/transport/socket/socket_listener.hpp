// The one listener skeleton of the socket transports (tcp, obfs, tls, wss): it binds, accepts
// on the executor ListenOptions::pick_executor chooses, backs off after accept errors,
// counts, logs (rate-limited) and keeps the replay cache. A transport supplies only what it
// does with one accepted connection: its ServeConnection.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "transport/socket/rate_limited_log.hpp"
#include "transport/socket/replay_cache.hpp"
#include "transport/transport.hpp"

namespace samizdat::transport {

// What every connection of one listener shares. Thread-safe parts only are used from the
// connections' executors (the stats, replay cache and log are).
struct ListenerState {
  ListenerState(asio::any_io_executor executor, ListenOptions options);

  asio::ip::tcp::acceptor acceptor;
  const ListenOptions options;
  Endpoint endpoint;  // as bound: the real port and the server's public key
  AcceptHandler handler;
  ListenerStats stats;
  ReplayCache replays;  // authenticated first handshake messages seen lately
  RateLimitedLog log;

  // Counts an authenticated connection and hands its stream to the handler.
  void accept(std::unique_ptr<FrameStream> stream);
  // Counts a connection that ended before authenticating, and logs why.
  void reject(std::string_view peer, const Error& error);
};

// Serves one accepted connection on its executor until it calls state->accept or
// state->reject (or, for a cover-site visitor, simply ends).
using ServeConnection =
    std::function<asio::awaitable<void>(std::shared_ptr<ListenerState> state, asio::ip::tcp::socket socket)>;

// What every listener needs before anything transport-specific is set up: the server's
// static key, and an IP address to bind (Errc::invalid_argument otherwise).
Status check_listen_request(const Endpoint& endpoint, const ListenOptions& options);

// Binds endpoint.host:endpoint.port (port 0 picks one) after check_listen_request, and
// returns the Listener that runs `serve` for each connection once started. Errc::network
// with the OS reason ("address in use" says to pick another port).
Result<std::unique_ptr<Listener>> listen_tcp(asio::any_io_executor executor, const Endpoint& endpoint,
                                             ListenOptions options, ServeConnection serve);

// listen_tcp for a transport that keeps state of its own per listener (derived secrets, a
// TLS context, a cover site): each connection is served as serve(listener, site, socket).
template <class Site>
Result<std::unique_ptr<Listener>> listen_tcp(asio::any_io_executor executor, const Endpoint& endpoint,
                                             ListenOptions options,
                                             asio::awaitable<void> (*serve)(std::shared_ptr<ListenerState>,
                                                                            std::shared_ptr<Site>,
                                                                            asio::ip::tcp::socket),
                                             std::shared_ptr<Site> site) {
  return listen_tcp(
      std::move(executor), endpoint, std::move(options),
      [serve, site = std::move(site)](std::shared_ptr<ListenerState> listener, asio::ip::tcp::socket socket) {
        return serve(std::move(listener), site, std::move(socket));
      });
}

}  // namespace samizdat::transport
