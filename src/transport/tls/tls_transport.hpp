// The tls transport (`tls://HOST:PORT[/PATH]?sni=NAME`): a real TLS 1.3 website on the
// server (certificate and key from files, ListenOptions::tls_certificate/tls_private_key)
// that serves the cover site (ListenOptions::cover_site) to everyone, except to a request
// carrying a valid token (tls_token.hpp), which gets a WebSocket-like 101 answer after
// which the Noise handshake and frames of the tcp transport run inside TLS
// (noise_over_stream.hpp). Wire format: docs/PROTOCOL.md "tls".
#pragma once

#include <memory>

#include "transport/transport.hpp"

namespace samizdat::transport {

std::shared_ptr<Transport> make_tls_transport();

}  // namespace samizdat::transport
