#include "client/map_keeper.hpp"

#include <spdlog/spdlog.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <system_error>

#include "reach/bootstrap.hpp"
#include "reach/channels/dns_txt_map.hpp"
#include "reach/channels/https_mirror_map.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::client {
namespace {

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

// One out-of-band channel in a refresh race: a mirror, or a DNS name.
struct Channel {
  std::string label;  // "mirror URL" / "DNS NAME": the log line says where a map came from
  std::optional<reach::MapMirror> mirror;
  std::string dns_name;
};

struct RefreshRace {
  explicit RefreshRace(asio::any_io_executor executor) : wake(executor) {}
  asio::steady_timer wake;
  // Emitted (terminal) for the channels still running when the race ends: their pending
  // connect/read is aborted at once, so a one-shot command does not wait out their timeout.
  std::vector<std::unique_ptr<asio::cancellation_signal>> cancel;
  std::vector<bool> finished;
  std::size_t running = 0;
  bool over = false;  // set before cancelling: a channel that ends afterwards touches nothing else
  bool won = false;

  void end() {
    if (over) return;
    over = true;
    for (std::size_t i = 0; i < cancel.size(); ++i) {
      if (!finished[i]) cancel[i]->emit(asio::cancellation_type::terminal);
    }
  }
};

// Runs one channel; the first map accept_map takes wins the race. `keeper` and `store` are
// used only while the race is not over (the refresh that owns them is still waiting).
asio::awaitable<void> fetch_channel(std::shared_ptr<RefreshRace> race, std::size_t index, Channel channel,
                                    std::chrono::milliseconds timeout, asio::ip::udp::endpoint resolver,
                                    MapKeeper* keeper, AccountStore* store) {
  Result<Bytes> bytes = make_error(Errc::internal, "the channel ended without a result");
  try {
    if (channel.mirror) {
      reach::MirrorFetchOptions options;
      options.timeout = timeout;
      reach::MapMirror mirror = *channel.mirror;
      auto fetched = co_await reach::fetch_map_from_mirror(mirror, options);
      bytes = std::move(fetched);
    } else {
      reach::DnsLookupOptions options;
      options.resolver = resolver;
      options.timeout = timeout;
      std::string name = channel.dns_name;
      auto fetched = co_await reach::fetch_map_from_dns(name, options);
      bytes = std::move(fetched);
    }
  } catch (const std::system_error&) {
    // After the race's cancellation the next operation the channel awaits throws
    // operation_aborted (asio's throw_if_cancelled): expected for a loser.
    if (!race->over) throw;
  }
  race->finished[index] = true;
  --race->running;
  if (race->over) co_return;
  if (!bytes.ok()) {
    spdlog::info("map {} failed: {}", channel.label, bytes.error().message);
  } else {
    auto accepted = keeper->offer(*store, *bytes, channel.label);
    if (accepted.ok()) {
      race->won = true;
    } else {
      spdlog::info("map from {} not taken: {}", channel.label, accepted.error().message);
    }
  }
  race->wake.cancel();
}

}  // namespace

Status MapKeeper::load(AccountStore& store, const crypto::Ed25519Public& root) {
  root_ = root;
  current_.reset();
  bootstrap_mirrors_.clear();
  bootstrap_dns_names_.clear();
  if (auto text = SZ_TRY(store.meta("bootstrap")); text) {
    // The client checked this string when the account was made; a string it cannot read
    // simply offers no channels.
    if (auto bootstrap = reach::parse_bootstrap(as_chars(*text)); bootstrap.ok()) {
      bootstrap_mirrors_ = std::move(bootstrap->mirrors);
      bootstrap_dns_names_ = std::move(bootstrap->dns_names);
    }
  }
  auto bytes = SZ_TRY(store.meta(kReachMapKey));
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
  SZ_CHECK(store.set_meta(kReachMapKey, accepted->bytes));
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

  auto race = std::make_shared<RefreshRace>(executor);
  // However this coroutine ends (won, deadline, or cancelled itself), the channels still
  // running are cancelled and never touch this keeper again.
  struct EndRace {
    std::shared_ptr<RefreshRace> race;
    ~EndRace() { race->end(); }
  } end_race{race};
  race->finished.assign(channels.size(), false);
  for (std::size_t i = 0; i < channels.size(); ++i) {
    race->cancel.push_back(std::make_unique<asio::cancellation_signal>());
    ++race->running;
    asio::co_spawn(
        executor, fetch_channel(race, i, channels[i], timeout, resolver, this, &store),
        asio::bind_cancellation_slot(race->cancel[i]->slot(), log_escape("map_keeper: fetch_channel")));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!race->won && race->running > 0 && std::chrono::steady_clock::now() < deadline) {
    race->wake.expires_at(deadline);
    co_await race->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  if (!race->won) {
    spdlog::info("no map channel gave a newer map within {} ms ({} of {} still silent, cancelled)",
                 timeout.count(), race->running, channels.size());
  }
  co_return race->won;
}

}  // namespace samizdat::client
