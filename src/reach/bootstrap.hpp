// Bootstrap string: one line that gets a new client onto a network. It pins the
// operator's Ed25519 key (which signs sender certificates, and later network maps) and
// lists the endpoints to try.
//
//   "samizdat1:" base64url( version(1)=1 || operator_key(32) || count(1) || endpoint*count
//                           || checksum(4) )
//   version 2 (written only when map_root is set) adds map_root(32) right after operator_key.
//   version 3 (written only when there are mirrors or DNS names; needs map_root) is version 2
//   followed, after the endpoints, by the channels for a fresh network map:
//     channel_count(1) || (tag(1) || len8 str)*channel_count
//     tags: 5 = HTTPS mirror URL (starts a mirror), 6 = that mirror's front SNI, 7 = that
//     mirror's front Host (6 and 7 optional, right after their 5, in this order),
//     8 = DNS name whose TXT records carry the map. Mirrors first, then names.
//   endpoint = scheme(len8 str) || host(len8 str) || port(u16be) || server_static(32) || psk(32)
//              || option_count(1) || (tag(1) || len8 str)*option_count
//   tags: 1 = path, 2 = sni, 3 = host_header, 4 = shaping (each at most once, ascending)
//   checksum = first 4 bytes of BLAKE2b-256("samizdat-bootstrap-v1" || all preceding bytes),
//              so a damaged or truncated copy is reported as such.
// The parser is strict: every length, range and character is checked and trailing
// bytes are refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.hpp"
#include "reach/map/network_map.hpp"
#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

inline constexpr std::string_view kBootstrapPrefix = "samizdat1:";
inline constexpr std::size_t kMaxBootstrapEndpoints = 16;
inline constexpr std::size_t kMaxBootstrapMirrors = 8;
inline constexpr std::size_t kMaxBootstrapDnsNames = 8;

struct Bootstrap {
  crypto::Ed25519Public operator_key{};
  // The offline root that certifies network-map signing keys (reach/map/signed_map.hpp);
  // absent in version-1 strings, where the operator key plays that role.
  std::optional<crypto::Ed25519Public> map_root;
  std::vector<transport::Endpoint> endpoints;  // in the operator's order of preference
  // Where a client that has no network map yet fetches one (channels 2 and 3 of
  // docs/CLIENT.md "Reach"); published by `samizdatd map publish`. Version 3 only.
  std::vector<MapMirror> mirrors;
  std::vector<std::string> dns_names;
};

// Errc::invalid_argument if an endpoint cannot be encoded (empty host, field too long,
// no endpoints, more than kMaxBootstrapEndpoints), or a mirror/DNS name cannot (not https://,
// too many, or no map_root to verify what they serve).
Result<std::string> encode_bootstrap(const Bootstrap& bootstrap);
// Errc::invalid_argument with a message for people ("damaged: copy it again", "made for a
// newer version: update the app", ...). Surrounding whitespace is ignored.
Result<Bootstrap> parse_bootstrap(std::string_view text);

}  // namespace samizdat::reach
