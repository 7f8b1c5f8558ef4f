#include "client/map_keeper.hpp"

#include <spdlog/spdlog.h>

#include "reach/channels/dns_txt_map.hpp"
#include "reach/channels/https_mirror_map.hpp"
#include "util/clock.hpp"

namespace samizdat::client {
namespace {

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

}  // namespace

Status MapKeeper::load(AccountStore& store, const crypto::Ed25519Public& root) {
  root_ = root;
  current_.reset();
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
  (void)executor;
  if (!current_) co_return false;  // the mirrors and names come from a map
  auto mirrors = current_->map.mirrors;
  auto names = current_->map.dns_names;
  for (const auto& mirror : mirrors) {
    reach::MirrorFetchOptions options;
    options.timeout = timeout;
    reach::MapMirror named = mirror;
    auto bytes = co_await reach::fetch_map_from_mirror(named, options);
    if (!bytes.ok()) {
      spdlog::info("map mirror {} failed: {}", mirror.url, bytes.error().message);
      continue;
    }
    auto accepted = offer(store, *bytes, "mirror " + mirror.url);
    if (accepted.ok()) co_return true;
  }
  auto resolver = reach::system_resolver();
  if (!resolver.ok()) co_return false;
  for (const auto& name : names) {
    reach::DnsLookupOptions options;
    options.resolver = *resolver;
    options.timeout = timeout;
    std::string lookup = name;
    auto bytes = co_await reach::fetch_map_from_dns(lookup, options);
    if (!bytes.ok()) {
      spdlog::info("map DNS name {} failed: {}", name, bytes.error().message);
      continue;
    }
    auto accepted = offer(store, *bytes, "DNS " + name);
    if (accepted.ok()) co_return true;
  }
  co_return false;
}

}  // namespace samizdat::client
