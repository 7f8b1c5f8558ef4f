// Endpoint: everything a client needs to reach one server listener — the transport
// (by URI scheme), host, port, the server's Noise static public key and the endpoint
// PSK, plus the fields later transports use (SNI, HTTP Host, path).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/keys.hpp"
#include "util/result.hpp"

namespace samizdat::transport {

using Psk = std::array<std::uint8_t, 32>;

struct Endpoint {
  std::string scheme = "tcp";  // "tcp" now; "obfs", "tls", "wss" register later
  std::string host;            // DNS name, IPv4 or IPv6 (without brackets)
  std::uint16_t port = 0;
  std::string path;                      // wss: secret path ("/abc"); empty otherwise
  std::string sni;                       // tls/wss: TLS server name; empty = host
  std::string host_header;               // wss behind a CDN: HTTP Host; empty = host
  std::string shaping;                   // obfs first-packet shaping mode; empty = transport default
  crypto::X25519Public server_static{};  // the server's Noise static public key
  // Shared by every client of this endpoint (it comes from the bootstrap string or
  // network map): it makes the handshake unrecognisable to probers who lack it; it is
  // not what keeps messages secret.
  Psk psk{};

  // "tcp://HOST:PORT[/PATH]" (IPv6 hosts in brackets); keys are not included.
  [[nodiscard]] std::string to_uri() const;
  // to_uri() plus "?key=<base64url>&psk=<base64url>" (and "&shaping=MODE" when set):
  // a self-contained endpoint.
  [[nodiscard]] std::string to_uri_with_keys() const;
};

// Parses "SCHEME://HOST:PORT[/PATH][?key=B64URL&psk=B64URL&sni=..&host=..&shaping=..]".
// HOST may be "[v6]".
// Keys are zero unless given in the query. Errc::invalid_argument with a message that
// names the problem (missing port, port out of range, bad key encoding, ...).
// The scheme is not checked against registered transports here (see TransportRegistry).
Result<Endpoint> parse_endpoint_uri(std::string_view uri);

}  // namespace samizdat::transport
