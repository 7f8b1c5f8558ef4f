// Network map channel 4 as the client runs it (contact_map.hpp has the pieces): the digest
// sealed into every outgoing message, and what the digests, map requests and map replies
// in a batch of incoming messages lead to (requests and replies wait in the outbox like
// any message, so a contact offline now gets them from its mailbox later).
#pragma once

#include <optional>
#include <vector>

#include "client/account_store.hpp"
#include "client/connector.hpp"
#include "client/contact_map.hpp"
#include "client/map_keeper.hpp"
#include "client/network_config.hpp"

namespace samizdat::client {

// What this device advertises: nullopt without a map (or a bootstrap it cannot read).
std::optional<wire::ContactMapDigest> advertised_map_digest(const NetworkConfig& network,
                                                            const MapKeeper& map);

// Acts on the map news of a committed batch: replies are offered to the map keeper, newer
// digests asked for (once per contact and map), requests answered when we have the map.
// Only storage errors are returned; a refused map is logged.
Status apply_contact_maps(AccountStore& store, Connector& connector, const NetworkConfig& network,
                          const std::vector<ContactMapEvent>& events);

}  // namespace samizdat::client
