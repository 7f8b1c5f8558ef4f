// The user's relays (`samizdat relay add LINK`), kept in the account database (table
// `relays`, created on first use), and dialing the network through them when no direct
// endpoint answers.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/account_store.hpp"
#include "transport/frame_stream.hpp"
#include "transport/relay/relay_link.hpp"
#include "transport/transport.hpp"

namespace samizdat::client {

struct StoredRelay {
  std::int64_t id = 0;  // for `samizdat relay remove ID`
  std::string link;     // samizdat-relay1:...
  std::vector<transport::Endpoint> endpoints;
  std::int64_t added_ms = 0;
};

// Parses and stores the link. Errc::invalid_argument (the parser's explanation),
// Errc::already_exists if this link is stored already.
Result<StoredRelay> add_relay(AccountStore& store, std::string_view link, std::int64_t now_ms);
// In the order they were added.
Result<std::vector<StoredRelay>> list_relays(AccountStore& store);
// Errc::not_found if no relay has this id.
Status remove_relay(AccountStore& store, std::int64_t id);

struct RelayedStream {
  std::unique_ptr<transport::FrameStream> stream;
  transport::Endpoint relay;  // the relay endpoint that worked
};

// Tries each endpoint of each relay in turn, with the network's first endpoint's server
// key and PSK for the inner handshake. The error lists what each attempt said.
asio::awaitable<Result<RelayedStream>> dial_through_relays(asio::any_io_executor executor,
                                                           std::vector<StoredRelay> relays,
                                                           std::vector<transport::Endpoint> network,
                                                           transport::DialOptions options);

}  // namespace samizdat::client
