// NetworkMap: the operator's versioned list of ways into the network — endpoints (every
// Endpoint field plus weight, region hints and a validity window), HTTPS mirrors that
// serve the signed map, and DNS names whose TXT records carry it. Plain data: signing,
// validation and the byte format live in signed_map.hpp. Times are unix seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transport/endpoint.hpp"

namespace samizdat::reach {

inline constexpr std::size_t kMaxMapEndpoints = 256;
inline constexpr std::size_t kMaxMapMirrors = 32;
inline constexpr std::size_t kMaxMapDnsNames = 32;

struct MapEndpoint {
  transport::Endpoint endpoint;      // scheme, host, port, path, sni, host_header, shaping, keys
  std::uint32_t weight = 100;        // relative preference among usable endpoints (dialer's hint)
  std::vector<std::string> regions;  // region hints ("ru", "cn", ...); empty = everywhere
  std::uint64_t not_before = 0;      // 0 = no lower bound
  std::uint64_t expires_at = 0;      // 0 = valid as long as the map

  // Inside [not_before, expires_at) at `now`.
  [[nodiscard]] bool usable_at(std::uint64_t now) const;
};

// A static HTTPS location of the signed map. Fronting: TLS SNI `front_sni` and HTTP Host
// `front_host` may differ from the URL's host (empty = the URL's host); the connection
// goes to the URL's host. Trust comes from the map signature, never the certificate.
struct MapMirror {
  std::string url;  // "https://HOST[:PORT]/PATH"
  std::string front_sni;
  std::string front_host;
};

struct NetworkMap {
  std::uint64_t version = 0;  // strictly increasing per network
  std::uint64_t issued_at = 0;
  std::uint64_t expires_at = 0;
  std::vector<MapEndpoint> endpoints;
  std::vector<MapMirror> mirrors;
  std::vector<std::string> dns_names;  // names whose TXT records carry the map (dns_txt.hpp)

  // Endpoints usable at `now` (validity window), in map order.
  [[nodiscard]] std::vector<transport::Endpoint> usable_endpoints(std::uint64_t now) const;
};

}  // namespace samizdat::reach
