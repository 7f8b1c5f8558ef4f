#include "client/connector.hpp"

#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>

#include "client/reach_state.hpp"
#include "client/relay_book.hpp"
#include "reach/bootstrap.hpp"
#include "reach/channels/inband_map.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::client {

// A dial in flight. Callers that arrive meanwhile wait on `done`, which never expires by
// itself: the dialling caller cancels it when the outcome is in.
struct Connector::Dial {
  explicit Dial(const asio::any_io_executor& executor)
      : done(executor, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;
  std::optional<Result<ServerConnection*>> outcome;
};

Connector::Connector(asio::any_io_executor executor, AccountStore& store, const NetworkConfig& network,
                     std::shared_ptr<const crypto::X25519KeyPair> device_key, ConnectorOptions options)
    : executor_(std::move(executor)),
      store_(store),
      network_(network),
      device_key_(std::move(device_key)),
      options_(std::move(options)) {}

Connector::~Connector() = default;

Result<std::unique_ptr<Connector>> Connector::load(asio::any_io_executor executor, AccountStore& store,
                                                   const NetworkConfig& network,
                                                   std::shared_ptr<const crypto::X25519KeyPair> device_key,
                                                   ConnectorOptions options) {
  std::unique_ptr<Connector> connector(
      new Connector(std::move(executor), store, network, std::move(device_key), std::move(options)));
  SZ_CHECK(load_reach_state(store, *connector->health_, connector->imported_));
  if (auto bootstrap = reach::parse_bootstrap(network.bootstrap); bootstrap.ok()) {
    SZ_CHECK(connector->map_.load(store, reach::map_root_key(*bootstrap)));
  }
  return connector;
}

std::unique_ptr<ServerConnection>& Connector::slot(Via via) {
  return via == Via::device ? device_connection_ : anonymous_connection_;
}

ServerConnection* Connector::kept(Via via) const {
  return (via == Via::device ? device_connection_ : anonymous_connection_).get();
}

asio::awaitable<Result<ServerConnection*>> Connector::connection(Via via) {
  auto& connection = slot(via);
  if (connection && connection->is_open()) co_return connection.get();
  auto& in_flight = via == Via::device ? device_dial_ : anonymous_dial_;
  if (auto dial = in_flight) {
    co_await dial->done.async_wait(use_tuple);
    if (dial->outcome) co_return *dial->outcome;
    co_return make_error(Errc::internal, "the dial this request waited for ended without an outcome");
  }
  auto dial = std::make_shared<Dial>(executor_);
  in_flight = dial;
  // However the dial ends, the callers waiting for it are woken and the next caller dials anew.
  struct Finish {
    std::shared_ptr<Dial>& in_flight;
    std::shared_ptr<Dial> dial;
    ~Finish() {
      if (in_flight == dial) in_flight.reset();
      dial->done.cancel();
    }
  } finish{in_flight, dial};
  auto outcome = co_await this->dial(via);
  dial->outcome = outcome;
  co_return outcome;
}

asio::awaitable<Result<reach::RaceWinner>> Connector::race(Via via, std::vector<transport::Endpoint> known) {
  // Not a walk over every endpoint: the dialer races the best-ranked few and widens only
  // as attempts fail (docs/CLIENT.md "Reach").
  auto candidates = reach::pick_candidates(known, *health_, unix_millis(), options_.race);
  transport::DialOptions dial_options;
  if (via == Via::device) dial_options.client_static = device_key_;
  auto health = health_;
  reach::AttemptObserver observer = [this, health](const reach::AttemptReport& report) {
    if (report.suspect) {
      // Saved at once: the command may be stopped (Ctrl-C, a deadline, SIGKILL) before this
      // attempt ends. Suspect reports come only while race_dial runs, so `this` is alive.
      spdlog::info("endpoint {} is suspect: {}", report.endpoint.to_uri(), report.reason);
      health->record_suspect(report.endpoint, report.failure, unix_millis());
      save_health();
    } else if (report.ok) {
      health->record_success(report.endpoint, static_cast<std::uint32_t>(report.elapsed.count()),
                             unix_millis());
    } else {
      spdlog::info("endpoint {} failed: {} ({})", report.endpoint.to_uri(), reach::to_string(report.failure),
                   report.reason);
      health->record_failure(report.endpoint, report.failure, report.reason, unix_millis());
    }
  };
  reach::RaceOptions race_options = options_.race;
  // --timeout bounds each attempt too, so a short command still classifies what it tried.
  race_options.attempt_timeout = std::min(race_options.attempt_timeout, options_.timeout);
  auto won = co_await reach::race_dial(executor_, std::move(candidates), std::move(dial_options),
                                       race_options, std::move(observer));
  save_health();
  co_return won;
}

asio::awaitable<Result<ServerConnection*>> Connector::dial(Via via) {
  auto& connection = slot(via);
  if (connection) note_loss(*connection);
  connection.reset();
  auto known = known_endpoints();
  auto won = co_await race(via, known);
  if (!won.ok()) {
    // Every known endpoint failed: a newer map from the HTTPS mirrors or DNS names of the
    // current one may list endpoints the censor has not found yet.
    auto refreshed = co_await map_.refresh_out_of_band(executor_, store_, options_.timeout);
    if (refreshed.ok() && *refreshed) {
      auto fresh = known_endpoints();  // named: a prvalue argument inside co_await (GCC 12)
      won = co_await race(via, std::move(fresh));
    }
  }
  std::unique_ptr<transport::FrameStream> stream;
  transport::Endpoint endpoint;
  if (won.ok()) {
    spdlog::debug("connected to {} in {} ms", won->endpoint.to_uri(), won->elapsed.count());
    stream = std::move(won->stream);
    endpoint = won->endpoint;
  } else {
    // Every direct endpoint failed: try the user's relays (samizdat relay add).
    auto relays = list_relays(store_);
    if (relays.ok() && !relays->empty()) {
      transport::DialOptions relay_options;
      relay_options.timeout = options_.timeout;
      if (via == Via::device) relay_options.client_static = device_key_;
      auto relayed = co_await dial_through_relays(executor_, std::move(*relays), known, relay_options);
      if (relayed.ok()) {
        spdlog::info("connected through relay {}", relayed->relay.to_uri());
        stream = std::move(relayed->stream);
        endpoint = relayed->relay;
      } else {
        spdlog::info("relays did not help either: {}", relayed.error().message);
      }
    }
  }
  if (!stream) {
    Error error = std::move(won).error();
    error.message =
        "cannot reach the server: " + error.message + " (check the network; samizdat retries by itself)";
    co_return error;
  }
  connection = ServerConnection::adopt(std::move(stream), endpoint);
  if (keeps_alive()) connection->start_keepalive(options_.keepalive);
  if (via == Via::device) ++device_connections_;
  co_return connection.get();
}

asio::awaitable<Result<wire::ServerMessage>> Connector::call(Via via, wire::ClientMessage request) {
  auto& kept_connection = slot(via);
  bool reused = kept_connection && kept_connection->is_open();
  auto connection = co_await this->connection(via);
  if (!connection.ok()) co_return std::move(connection).error();
  auto reply = co_await (*connection)->call(request, options_.timeout);
  auto lost = [&] {
    return !reply.ok() && (reply.error().code == Errc::network || reply.error().code == Errc::timeout);
  };
  if (lost() && reused && kept_connection && !kept_connection->is_open()) {
    // A connection kept from earlier died (server restart, or the keepalive found the path
    // blocked): one fresh try, through the dialer, which avoids the endpoint that failed.
    drop(via);
    connection = co_await this->connection(via);
    if (!connection.ok()) co_return std::move(connection).error();
    reply = co_await (*connection)->call(std::move(request), options_.timeout);
  }
  if (lost() && kept_connection) drop(via);
  if (reply.ok() && kept_connection) co_await fetch_offered_map(*kept_connection);
  co_return reply;
}

void Connector::drop(Via via) {
  auto& connection = slot(via);
  if (!connection) return;
  note_loss(*connection);
  connection.reset();
}

void Connector::disconnect() {
  device_connection_.reset();
  anonymous_connection_.reset();
}

void Connector::note_loss(ServerConnection& connection) {
  auto loss = connection.loss();
  if (!loss) return;
  const auto* known = health_->find(reach::HealthBook::key(connection.endpoint()));
  std::int64_t now = unix_millis();
  // The device and the anonymous connection often die together: count the event once.
  if (known && known->in_backoff(now)) return;
  spdlog::info("lost the connection to {}: {} ({})", connection.endpoint().to_uri(),
               reach::to_string(connection.loss_class()), loss->message);
  health_->record_failure(connection.endpoint(), connection.loss_class(), loss->message, now);
  save_health();
}

void Connector::save_health() {
  if (auto saved = save_reach_health(store_, *health_); !saved.ok()) {
    spdlog::warn("could not save what the dialer learned: {}", saved.error().message);
  }
}

void Connector::clear_backoff() {
  health_->clear_backoff();
  save_health();
}

std::vector<transport::Endpoint> Connector::known_endpoints() const {
  std::vector<transport::Endpoint> out = network_.endpoints;
  auto from_map = map_.endpoints();
  std::vector<transport::Endpoint> extra = imported_;
  extra.insert(extra.begin(), from_map.begin(), from_map.end());
  for (const auto& endpoint : extra) {
    bool seen = false;
    for (const auto& e : out) seen = seen || e.to_uri_with_keys() == endpoint.to_uri_with_keys();
    if (!seen) out.push_back(endpoint);
  }
  return out;
}

Result<std::size_t> Connector::import_endpoints(const std::vector<transport::Endpoint>& endpoints) {
  auto before = known_endpoints().size();
  auto merged = imported_;
  for (const auto& endpoint : endpoints) merged.push_back(endpoint);
  SZ_CHECK(save_imported_endpoints(store_, merged));
  imported_ = std::move(merged);
  std::size_t added = known_endpoints().size() - before;
  clear_backoff();
  return added;
}

Result<std::uint64_t> Connector::offer_map(ByteView signed_map, std::string_view channel) {
  auto accepted = SZ_TRY(map_.offer(store_, signed_map, channel));
  clear_backoff();  // new endpoints, and maybe old ones unblocked: try again
  return accepted->map.version;
}

// Channel 1 (in-band): the server offered a map newer than ours; fetch it on the same
// connection. Best effort: a failure only means we keep the map we have.
asio::awaitable<void> Connector::fetch_offered_map(ServerConnection& connection) {
  auto offer = connection.take_map_offer();
  if (!offer || fetching_map_ || !reach::map_offer_is_newer(*offer, map_.current())) co_return;
  fetching_map_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{fetching_map_};
  wire::ClientMessage request;
  request.mutable_get_map();
  std::string from = "server " + connection.endpoint().to_uri();  // `connection` may go while we wait
  auto reply = co_await connection.call(std::move(request), options_.timeout);
  if (!reply.ok() || !reply->has_map_reply()) co_return;
  auto bytes = reach::map_bytes_from_reply(reply->map_reply());
  if (!bytes.ok()) co_return;
  auto accepted = map_.offer(store_, *bytes, from);
  if (!accepted.ok()) spdlog::info("in-band map refused: {}", accepted.error().message);
}

std::vector<transport::Endpoint> Connector::active_endpoints() const {
  std::vector<transport::Endpoint> out;
  for (const auto* connection : {&device_connection_, &anonymous_connection_}) {
    if (*connection && (*connection)->is_open()) out.push_back((*connection)->endpoint());
  }
  return out;
}

std::optional<transport::Endpoint> Connector::active_endpoint() const {
  if (device_connection_ && device_connection_->is_open()) return device_connection_->endpoint();
  return std::nullopt;
}

}  // namespace samizdat::client
