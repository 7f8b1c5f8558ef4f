#include "reach/map/network_map.hpp"

namespace samizdat::reach {

bool MapEndpoint::usable_at(std::uint64_t now) const {
  if (not_before != 0 && now < not_before) return false;
  if (expires_at != 0 && now >= expires_at) return false;
  return true;
}

std::vector<transport::Endpoint> NetworkMap::usable_endpoints(std::uint64_t now) const {
  std::vector<transport::Endpoint> out;
  for (const auto& entry : endpoints) {
    if (entry.usable_at(now)) out.push_back(entry.endpoint);
  }
  return out;
}

}  // namespace samizdat::reach
