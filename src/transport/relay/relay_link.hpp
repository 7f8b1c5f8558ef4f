// Relay share link: one line that tells a client how to reach a volunteer relay
// (`samizdatd relay` prints it; `samizdat relay add LINK` stores it).
//
//   "samizdat-relay1:" base64url( version(1)=1 || count(1) || endpoint*count || checksum(4) )
//   endpoint = u16be length || endpoint URI with keys (Endpoint::to_uri_with_keys(), plus
//              "&sni=" / "&host=" when set), parsed back with parse_endpoint_uri
//   checksum = first 4 bytes of BLAKE2b-256("samizdat-relay-link-v1" || all preceding bytes)
// The link carries only the relay's own endpoints (its key and PSK): which network the
// relay serves is the relay's configuration, not the client's business.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::transport {

inline constexpr std::string_view kRelayLinkPrefix = "samizdat-relay1:";
inline constexpr std::size_t kMaxRelayLinkEndpoints = 8;

struct RelayLink {
  std::vector<Endpoint> endpoints;  // the relay's listeners, in the order to try
};

// Errc::invalid_argument for no endpoints, too many, or one with an empty host.
Result<std::string> encode_relay_link(const RelayLink& link);
// Errc::invalid_argument with a message for people (damaged, newer version, not a relay
// link). Surrounding whitespace is ignored. Strict: trailing bytes are refused.
Result<RelayLink> parse_relay_link(std::string_view text);

}  // namespace samizdat::transport
