// How the client reaches samizdatd: one connection per Via, dialled on demand by racing the
// best-ranked endpoints (reach/dialer), refreshing the network map out of band when every
// endpoint fails, and trying the user's relays last. It keeps what the dialer learns
// (endpoint health, imported endpoints, the map) in the account database.
//
// Callers that want a connection while one is being dialled share that dial (and its
// outcome): a second dial would replace, and close, a connection the first caller is about
// to use. Single-threaded: every method runs on the client's executor.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "client/account_store.hpp"
#include "client/map_keeper.hpp"
#include "client/network_config.hpp"
#include "client/server_connection.hpp"
#include "reach/dialer/endpoint_health.hpp"
#include "reach/dialer/racing_dialer.hpp"

namespace samizdat::client {

// Which connection a request goes over. `device`: authenticated as this device (Noise
// IKpsk2 with the device key). `anonymous`: the server cannot tell who is connected
// (NKpsk2), for sealed-sender sends, prekey lookups and registration.
enum class Via { device, anonymous };

struct ConnectorOptions {
  std::chrono::milliseconds timeout{10'000};  // each network step (connect, request)
  reach::RaceOptions race;
  KeepaliveOptions keepalive;
};

class Connector {
 public:
  // `store` and `network` must outlive the connector. Loads the reach state (health,
  // imported endpoints, the network map pinned to the bootstrap's root).
  static Result<std::unique_ptr<Connector>> load(asio::any_io_executor executor, AccountStore& store,
                                                 const NetworkConfig& network,
                                                 std::shared_ptr<const crypto::X25519KeyPair> device_key,
                                                 ConnectorOptions options);
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // The open connection `via`, dialled when there is none. Errc::network / timeout with a
  // message saying what was tried.
  asio::awaitable<Result<ServerConnection*>> connection(Via via);
  // Sends `request` over the connection `via`. A kept connection found dead is replaced
  // once; a map the server offers in-band is fetched on the same connection.
  asio::awaitable<Result<wire::ServerMessage>> call(Via via, wire::ClientMessage request);
  // The connection `via` if one is kept (open or not), without dialling.
  ServerConnection* kept(Via via) const;
  // Forgets the connection `via`, recording why it was lost in the endpoint health.
  void drop(Via via);
  void disconnect();
  // Counts device connections made: envelope ids compare only within one connection.
  std::uint64_t device_connections() const { return device_connections_; }
  bool keeps_alive() const { return options_.keepalive.interval.count() > 0; }

  // Every endpoint known (bootstrap, then map, then imported), what was learned about
  // them, and manual import (returns how many were new; backoff cleared).
  std::vector<transport::Endpoint> known_endpoints() const;
  const reach::HealthBook& health() const { return *health_; }
  Result<std::size_t> import_endpoints(const std::vector<transport::Endpoint>& endpoints);
  const MapKeeper& map() const { return map_; }
  MapKeeper& map() { return map_; }
  // A map from any channel (import by hand, a contact): its version once accepted.
  Result<std::uint64_t> offer_map(ByteView signed_map, std::string_view channel);
  // New endpoints may work now (a new map arrived): endpoints in backoff are tried again.
  void clear_backoff();
  std::vector<transport::Endpoint> active_endpoints() const;
  std::optional<transport::Endpoint> active_endpoint() const;

 private:
  struct Dial;
  Connector(asio::any_io_executor executor, AccountStore& store, const NetworkConfig& network,
            std::shared_ptr<const crypto::X25519KeyPair> device_key, ConnectorOptions options);
  std::unique_ptr<ServerConnection>& slot(Via via);
  asio::awaitable<Result<ServerConnection*>> dial(Via via);
  asio::awaitable<Result<reach::RaceWinner>> race(Via via, std::vector<transport::Endpoint> known);
  asio::awaitable<void> fetch_offered_map(ServerConnection& connection);
  void note_loss(ServerConnection& connection);
  void save_health();

  asio::any_io_executor executor_;
  AccountStore& store_;
  const NetworkConfig& network_;
  std::shared_ptr<const crypto::X25519KeyPair> device_key_;
  ConnectorOptions options_;
  std::unique_ptr<ServerConnection> device_connection_;
  std::unique_ptr<ServerConnection> anonymous_connection_;
  std::shared_ptr<Dial> device_dial_;  // in flight, shared by every caller waiting for it
  std::shared_ptr<Dial> anonymous_dial_;
  std::uint64_t device_connections_ = 0;
  std::shared_ptr<reach::HealthBook> health_ = std::make_shared<reach::HealthBook>();
  std::vector<transport::Endpoint> imported_;
  MapKeeper map_;
  bool fetching_map_ = false;
};

}  // namespace samizdat::client
