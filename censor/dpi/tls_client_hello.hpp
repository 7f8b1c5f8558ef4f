// TLS ClientHello: reading the server name (SNI) from a client's first record, as
// the TSPU does, and building a plausible TLS 1.3 ClientHello for probes and for
// the control client's SNI-bearing first packet.
#pragma once

#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

// The SNI host name in a ClientHello that starts at payload[0] (one TLS record,
// possibly truncated after the extension). not_found: a ClientHello without SNI;
// malformed: not a ClientHello or cut before the name.
Result<std::string> parse_client_hello_sni(ByteView payload);

// A TLS 1.3 ClientHello record (random, session id and key share from libsodium's RNG).
Bytes build_client_hello(const std::string& server_name);

}  // namespace samizdat::censor
