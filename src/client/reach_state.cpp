#include "client/reach_state.hpp"

#include <spdlog/spdlog.h>

namespace samizdat::client {

Status load_reach_state(AccountStore& store, reach::HealthBook& health,
                        std::vector<transport::Endpoint>& imported) {
  auto record = SZ_TRY(store.get(settings::reach_health));
  if (record) {
    auto decoded = reach::HealthBook::decode(*record);
    if (decoded.ok()) {
      health = std::move(*decoded);
    } else {
      spdlog::warn("ignoring the stored endpoint health ({}): the dialer starts afresh",
                   decoded.error().message);
    }
  }
  imported.clear();
  auto list = SZ_TRY(store.get(settings::reach_imported));
  if (!list) return {};
  std::string_view text = *list;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty()) continue;
    auto endpoint = transport::parse_endpoint_uri(line);
    if (!endpoint.ok()) {
      return make_error(Errc::storage, "an imported endpoint in the account database is damaged (" +
                                           endpoint.error().message + "): import it again");
    }
    imported.push_back(std::move(*endpoint));
  }
  return {};
}

Status save_reach_health(AccountStore& store, const reach::HealthBook& health) {
  return store.put(settings::reach_health, health.encode());
}

Status save_imported_endpoints(AccountStore& store, const std::vector<transport::Endpoint>& imported) {
  if (imported.size() > kMaxImportedEndpoints) {
    return make_error(Errc::limit_exceeded, "too many imported endpoints (at most " +
                                                std::to_string(kMaxImportedEndpoints) +
                                                "): import a newer network map instead");
  }
  std::string text;
  for (const auto& endpoint : imported) text += endpoint.to_uri_with_keys() + "\n";
  return store.put(settings::reach_imported, text);
}

}  // namespace samizdat::client
