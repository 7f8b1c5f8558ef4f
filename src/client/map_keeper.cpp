#include "client/map_keeper.hpp"

#include <spdlog/spdlog.h>

#include "reach/bootstrap.hpp"
#include "reach/channels/dns_txt_map.hpp"
#include "reach/channels/https_mirror_map.hpp"
#include "reach/dialer/race.hpp"
#include "util/clock.hpp"

namespace samizdat::client {
namespace {

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

// One out-of-band channel in a refresh race: a mirror, or a DNS name.
struct Channel {
  std::string label;  // "mirror URL" / "DNS NAME": the log line says where a map came from
  std::optional<reach::MapMirror> mirror;
  std::string dns_name;
};

// Fetches one channel's candidate map (the refresh decides whether it wins).
asio::awaitable<Result<Bytes>> fetch_channel(const Channel& channel, std::chrono::milliseconds timeout,
                                             asio::ip::udp::endpoint resolver) {
  if (channel.mirror) {
    reach::MirrorFetchOptions options;
    options.timeout = timeout;
    reach::MapMirror mirror = *channel.mirror;
    co_return co_await reach::fetch_map_from_mirror(mirror, options);
  }
  reach::DnsLookupOptions options;
  options.resolver = resolver;
  options.timeout = timeout;
  std::string name = channel.dns_name;
  co_return co_await reach::fetch_map_from_dns(name, options);
}

}  // namespace

Status MapKeeper::load(AccountStore& store, const crypto::Ed25519Public& root) {
  root_ = root;
  current_.reset();
  bootstrap_mirrors_.clear();
  bootstrap_dns_names_.clear();
  if (auto text = SZ_TRY(store.get(settings::bootstrap)); text) {
    // The client checked this string when the account was made; a string it cannot read
    // simply offers no channels.
    if (auto bootstrap = reach::parse_bootstrap(*text); bootstrap.ok()) {
      bootstrap_mirrors_ = std::move(bootstrap->mirrors);
      bootstrap_dns_names_ = std::move(bootstrap->dns_names);
    }
  }
  auto bytes = SZ_TRY(store.get(settings::reach_map));
  if (!bytes) return {};
  auto verified = reach::verify_map(*bytes, root_, now_seconds());
  if (!verified.ok()) {
    spdlog::info("the stored network map is no longer usable ({}): using the bootstrap endpoints",
                 verified.error().message);
    return {};
  }
  current_ = std::move(*verified);
  return {};
}

std::vector<transport::Endpoint> MapKeeper::endpoints() const {
  if (!current_) return {};
  return current_->map.usable_endpoints(now_seconds());
}

Result<const reach::SignedMap*> MapKeeper::offer(AccountStore& store, ByteView candidate,
                                                 std::string_view channel) {
  auto accepted = reach::accept_map(current(), candidate, root_, now_seconds());
  if (!accepted.ok()) return std::move(accepted).error();
  SZ_CHECK(store.put(settings::reach_map, accepted->bytes));
  spdlog::info("network map v{} accepted from {} ({} endpoints)", accepted->map.version, channel,
               accepted->map.endpoints.size());
  current_ = std::move(*accepted);
  return &*current_;
}

asio::awaitable<Result<bool>> MapKeeper::refresh_out_of_band(asio::any_io_executor executor,
                                                             AccountStore& store,
                                                             std::chrono::milliseconds timeout) {
  // The current map's channels first (the operator's newest word), then the bootstrap's.
  std::vector<Channel> channels;
  auto add_mirror = [&](const reach::MapMirror& mirror) {
    for (const auto& c : channels)
      if (c.mirror && c.mirror->url == mirror.url) return;
    channels.push_back(Channel{"mirror " + mirror.url, mirror, {}});
  };
  auto add_name = [&](const std::string& name) {
    for (const auto& c : channels)
      if (!c.mirror && c.dns_name == name) return;
    channels.push_back(Channel{"DNS " + name, std::nullopt, name});
  };
  if (current_) std::for_each(current_->map.mirrors.begin(), current_->map.mirrors.end(), add_mirror);
  std::for_each(bootstrap_mirrors_.begin(), bootstrap_mirrors_.end(), add_mirror);
  std::vector<std::string> names;
  if (current_) names = current_->map.dns_names;
  names.insert(names.end(), bootstrap_dns_names_.begin(), bootstrap_dns_names_.end());
  asio::ip::udp::endpoint resolver;
  if (!names.empty()) {
    auto system = resolver_ ? Result<asio::ip::udp::endpoint>(*resolver_) : reach::system_resolver();
    if (system.ok()) {
      resolver = *system;
      std::for_each(names.begin(), names.end(), add_name);
    } else {
      spdlog::info("skipping the map's DNS names: {}", system.error().message);
    }
  }
  if (channels.empty()) co_return false;
  if (channels.size() > kMaxRacedMapChannels) channels.resize(kMaxRacedMapChannels);

  // Every channel at once; the first map accept_map takes wins and the others are cancelled.
  auto shared_channels = std::make_shared<std::vector<Channel>>(std::move(channels));
  reach::RaceHooks<Bytes> hooks;
  hooks.start = [shared_channels, timeout, resolver](std::size_t index) {
    return fetch_channel((*shared_channels)[index], timeout, resolver);
  };
  // Only while the race is undecided, so `this` and `store` are still in use by this refresh.
  hooks.settle = [this, &store, shared_channels](std::size_t index, std::chrono::milliseconds,
                                                 Result<Bytes>& bytes) {
    const std::string& label = (*shared_channels)[index].label;
    if (!bytes.ok()) {
      spdlog::info("map {} failed: {}", label, bytes.error().message);
      return false;
    }
    auto accepted = offer(store, *bytes, label);
    if (!accepted.ok()) spdlog::info("map from {} not taken: {}", label, accepted.error().message);
    return accepted.ok();
  };
  reach::RaceTiming timing;
  timing.deadline = timeout;
  const std::size_t count = shared_channels->size();
  auto outcome = co_await reach::race<Bytes>(executor, count, timing, hooks);
  if (outcome.end != reach::RaceEnd::won) {
    spdlog::info("no map channel gave a newer map within {} ms ({} of {} still silent, cancelled)",
                 timeout.count(), outcome.cut_short(), count);
  }
  co_return outcome.end == reach::RaceEnd::won;
}
}  // namespace samizdat::client
