// What the dialer keeps in the account database between runs: the endpoint health record
// (reach/dialer/endpoint_health.hpp format) as settings::reach_health, and endpoints
// imported by hand (`samizdat reach import`) as newline-separated endpoint URIs with
// keys as settings::reach_imported. A damaged health record is logged and ignored (the
// client relearns); a damaged import list is an error (the user put it there).
#pragma once

#include <vector>

#include "client/account_store.hpp"
#include "reach/dialer/endpoint_health.hpp"
#include "transport/endpoint.hpp"

namespace samizdat::client {

inline constexpr std::size_t kMaxImportedEndpoints = 64;

Status load_reach_state(AccountStore& store, reach::HealthBook& health,
                        std::vector<transport::Endpoint>& imported);
Status save_reach_health(AccountStore& store, const reach::HealthBook& health);
Status save_imported_endpoints(AccountStore& store, const std::vector<transport::Endpoint>& imported);

}  // namespace samizdat::client
