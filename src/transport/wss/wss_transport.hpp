// The wss transport: WebSocket (RFC 6455) over HTTPS on a secret path, carrying the
// Noise handshake and frame codec of the tcp transport in binary messages, so a server
// can sit behind a CDN or reverse proxy, and a client can use a TLS SNI of one name and
// an HTTP Host of another (domain fronting). docs/PROTOCOL.md "wss".
//
//   wss://HOST:PORT/PATH  TLS (server: ListenOptions tls_certificate/tls_private_key;
//                         client: SNI = Endpoint.sni or host, ALPN http/1.1), then HTTP.
//   ws://HOST:PORT/PATH   the same without TLS, for a listener behind a reverse proxy on
//                         the same machine that terminates TLS (nginx proxy_pass http://).
//
// Client: GET PATH with Host = Endpoint.host_header or host (Chromium-like headers),
// checks the 101, then the Noise handshake inside binary messages.
// Server: only a GET upgrade for exactly PATH is upgraded; every other request gets the
// cover site (ListenOptions::cover_site) as any visitor does, on the same keep-alive
// connection. After the upgrade, a Noise message that does not authenticate (wrong or
// no PSK, replay, junk) just closes the connection.
#pragma once

#include <memory>

#include "transport/transport.hpp"

namespace samizdat::transport {

// Prologue of the Noise handshake is the tcp transport's: the bytes inside the
// WebSocket are exactly a tcp connection's.
std::shared_ptr<Transport> make_wss_transport();  // scheme "wss"
std::shared_ptr<Transport> make_ws_transport();   // scheme "ws" (no TLS)

}  // namespace samizdat::transport
