// The client's steps shared by the https-based transports (tls, wss), in the order a dial
// runs them: connect_tcp (socket/), start_tls, an HTTP upgrade request (built with
// ws::format_upgrade_request, its Host from http_host), request_upgrade, then the Noise
// handshake inside (noise/noise_over_stream.hpp). Each step fails with a message naming it,
// which the dialer's failure classes read (reach/dialer/failure_class.cpp).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "transport/deadline.hpp"
#include "transport/endpoint.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "util/result.hpp"

namespace samizdat::transport::https {

// The client TLS context of every https dial (thread-safe once made; it caches sessions).
Result<std::shared_ptr<asio::ssl::context>> shared_client_context();

enum class Alpn { browser_default, http11_only };

// The TLS handshake on a connected socket as a browser would make it, with SNI =
// endpoint.sni or endpoint.host, finished by `deadline`. Errc::timeout "the TLS handshake
// with URI timed out"; Errc::network "TLS with URI failed: ...".
asio::awaitable<Result<std::unique_ptr<TlsByteStream>>> start_tls(asio::ip::tcp::socket socket,
                                                                  const Endpoint& endpoint, Alpn alpn,
                                                                  DeadlineClock::time_point deadline);

// "name" or "name:port" for an HTTP Host header: IPv6 literals in brackets, the port only
// when it is not the scheme's default.
std::string http_host(std::string_view name, std::uint16_t port, std::uint16_t default_port);

struct UpgradeAnswer {
  ws::HttpHead head;  // the server's answer (not checked yet: any status)
  Bytes rest;         // bytes that arrived after the head (the first frames)
};

// Sends `request` and reads the answer's head, by `deadline`. Errc::timeout "the WebSocket
// upgrade at URI timed out"; Errc::network when the server closes before answering;
// Errc::protocol for an oversized head; Errc::malformed for an answer that is not HTTP.
asio::awaitable<Result<UpgradeAnswer>> request_upgrade(ByteStream& stream, std::string_view request,
                                                       const Endpoint& endpoint,
                                                       DeadlineClock::time_point deadline);

}  // namespace samizdat::transport::https
