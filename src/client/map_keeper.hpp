// The client's newest network map (reach/map/signed_map.hpp): kept in the account
// database (settings::reach_map, the signed bytes), offered candidates from every channel,
// and refreshed through the out-of-band channels (HTTPS mirrors, DNS TXT) when every
// known endpoint fails: those of the current map and those of the bootstrap string (so a
// client that never had a map can still fetch one). Only validly signed, newer, unexpired
// maps replace it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <optional>

#include "client/account_store.hpp"
#include "reach/map/signed_map.hpp"

namespace samizdat::client {

// At most this many mirrors + DNS names are raced in one refresh.
inline constexpr std::size_t kMaxRacedMapChannels = 16;

class MapKeeper {
 public:
  MapKeeper() = default;
  // Loads the stored map (a stored map that no longer verifies, e.g. expired, is logged
  // and dropped: the bootstrap endpoints remain) and the mirrors and DNS names of the
  // account's bootstrap string (settings::bootstrap, version 3).
  Status load(AccountStore& store, const crypto::Ed25519Public& root);

  const reach::SignedMap* current() const { return current_ ? &*current_ : nullptr; }
  // Endpoints of the current map usable now (empty without a map).
  std::vector<transport::Endpoint> endpoints() const;

  // accept_map on `candidate` from `channel` (for the log); stores it when accepted.
  // Errc::replay when not newer, auth_failed / malformed when invalid.
  Result<const reach::SignedMap*> offer(AccountStore& store, ByteView candidate, std::string_view channel);

  // Channels 2 and 3, raced: every HTTPS mirror and DNS name of the current map and of the
  // bootstrap string (at most kMaxRacedMapChannels) is fetched at once; the first candidate
  // that accept_map takes wins and the others are cancelled. `timeout` bounds the whole
  // refresh, not each channel. Ok(true) when the map changed.
  asio::awaitable<Result<bool>> refresh_out_of_band(asio::any_io_executor executor, AccountStore& store,
                                                    std::chrono::milliseconds timeout);

  // The DNS resolver for the TXT lookups (default: the first nameserver of /etc/resolv.conf).
  void set_dns_resolver(asio::ip::udp::endpoint resolver) { resolver_ = resolver; }
  // The bootstrap's channels (load() sets them from the account's bootstrap string).
  void set_bootstrap_channels(std::vector<reach::MapMirror> mirrors, std::vector<std::string> dns_names) {
    bootstrap_mirrors_ = std::move(mirrors);
    bootstrap_dns_names_ = std::move(dns_names);
  }

 private:
  crypto::Ed25519Public root_{};
  std::optional<reach::SignedMap> current_;
  std::vector<reach::MapMirror> bootstrap_mirrors_;
  std::vector<std::string> bootstrap_dns_names_;
  std::optional<asio::ip::udp::endpoint> resolver_;
};

}  // namespace samizdat::client
