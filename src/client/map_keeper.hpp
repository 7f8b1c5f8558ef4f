// The client's newest network map (reach/map/signed_map.hpp): kept in the account
// database (meta "reach_map", the signed bytes), offered candidates from every channel,
// and refreshed through the out-of-band channels (HTTPS mirrors, DNS TXT) when every
// known endpoint fails. Only validly signed, newer, unexpired maps replace it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <optional>

#include "client/account_store.hpp"
#include "reach/map/signed_map.hpp"

namespace samizdat::client {

inline constexpr std::string_view kReachMapKey = "reach_map";

class MapKeeper {
 public:
  MapKeeper() = default;
  // Loads the stored map (a stored map that no longer verifies, e.g. expired, is logged
  // and dropped: the bootstrap endpoints remain).
  Status load(AccountStore& store, const crypto::Ed25519Public& root);

  const reach::SignedMap* current() const { return current_ ? &*current_ : nullptr; }
  // Endpoints of the current map usable now (empty without a map).
  std::vector<transport::Endpoint> endpoints() const;

  // accept_map on `candidate` from `channel` (for the log); stores it when accepted.
  // Errc::replay when not newer, auth_failed / malformed when invalid.
  Result<const reach::SignedMap*> offer(AccountStore& store, ByteView candidate, std::string_view channel);

  // Channels 2 and 3: the current map's HTTPS mirrors, then its DNS names, in turn, until
  // one gives a newer map. Ok(true) when the map changed.
  asio::awaitable<Result<bool>> refresh_out_of_band(asio::any_io_executor executor, AccountStore& store,
                                                    std::chrono::milliseconds timeout);

 private:
  crypto::Ed25519Public root_{};
  std::optional<reach::SignedMap> current_;
};

}  // namespace samizdat::client
