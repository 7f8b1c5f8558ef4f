#include "client/client.hpp"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cctype>

#include "client/reach_state.hpp"
#include "client/relay_book.hpp"
#include "crypto/e2e/device_registration.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "reach/channels/inband_map.hpp"
#include "util/coro.hpp"
#include "util/clock.hpp"

namespace samizdat::client {
namespace {

constexpr std::size_t kMaxOneTimePrekeysPerUpload = 200;
constexpr std::size_t kMaxNameLength = 64;

Status validate_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return make_error(Errc::invalid_argument, "a contact name must be 1 to 64 characters");
  }
  for (char c : name) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return make_error(Errc::invalid_argument, "a contact name cannot contain spaces or control characters");
    }
  }
  if (name.starts_with(crypto::e2e::kAddressPrefix)) {
    return make_error(Errc::invalid_argument,
                      "a contact name cannot start with 'sz1' (that looks like an address)");
  }
  return {};
}

}  // namespace

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

Client::~Client() = default;

Status Client::load_identity() {
  auto seed = SZ_TRY(store_->secret("identity_seed"));
  auto device_secret = SZ_TRY(store_->secret("device_key"));
  auto device = SZ_TRY(store_->meta_int("device_id"));
  auto bootstrap = SZ_TRY(store_->meta("bootstrap"));
  if (!seed || seed->size() != 32 || !device_secret || device_secret->size() != 32 || !device || !bootstrap) {
    return make_error(Errc::storage,
                      "the account in " + options_.home.string() +
                          " is incomplete: remove that directory and run `samizdat init` again");
  }
  identity_ = crypto::Ed25519KeyPair::from_seed(seed->view());
  device_key_ = std::make_shared<const crypto::X25519KeyPair>(
      crypto::X25519KeyPair::from_secret(device_secret->view()));
  device_id_ = static_cast<DeviceId>(*device);
  address_ = crypto::e2e::Address::from_identity(identity_.public_key);
  network_ = SZ_TRY(parse_network_config(as_chars(*bootstrap)));
  SZ_CHECK(load_reach_state(*store_, *health_, imported_));
  if (auto bootstrap_parsed = reach::parse_bootstrap(network_.bootstrap); bootstrap_parsed.ok()) {
    SZ_CHECK(map_.load(*store_, reach::map_root_key(*bootstrap_parsed)));
  }
  auto cert = SZ_TRY(store_->meta("sender_certificate"));
  if (cert) {
    auto parsed = crypto::e2e::SenderCertificate::parse(*cert);
    if (parsed.ok()) certificate_ = *parsed;
  }
  return {};
}

Result<std::unique_ptr<Client>> Client::open(asio::any_io_executor executor, ClientOptions options) {
  std::unique_ptr<Client> client(new Client(std::move(executor), std::move(options)));
  client->store_ = SZ_TRY(
      AccountStore::open({client->options_.home, client->options_.passphrase, client->options_.durability}));
  SZ_CHECK(client->load_identity());
  auto registered = SZ_TRY(client->store_->meta_int("registered"));
  if (registered.value_or(0) != 1) {
    return make_error(Errc::unavailable,
                      "the account in " + client->options_.home.string() +
                          " is not registered yet: run `samizdat init --bootstrap ...` again");
  }
  return client;
}

asio::awaitable<Result<std::unique_ptr<Client>>> Client::init(asio::any_io_executor executor,
                                                              ClientOptions options, std::string bootstrap) {
  auto network = parse_network_config(bootstrap);
  if (!network.ok()) co_return std::move(network).error();
  std::unique_ptr<Client> client(new Client(std::move(executor), std::move(options)));
  StoreOptions store_options{client->options_.home, client->options_.passphrase, client->options_.durability};
  if (AccountStore::exists(client->options_.home)) {
    auto store = AccountStore::open(store_options);
    if (!store.ok()) co_return std::move(store).error();
    client->store_ = std::move(*store);
    auto registered = client->store_->meta_int("registered");
    if (!registered.ok()) co_return std::move(registered).error();
    if (registered->value_or(0) == 1) {
      SZ_CO_TRY(client->load_identity());
      co_return make_error(Errc::already_exists,
                           "an account already exists in " + client->options_.home.string() + " (" +
                               client->address_.to_string() + "): use it, or pick another --home");
    }
    // An init that could not reach the server: keep the identity, finish registering.
    SZ_CO_TRY(client->store_->set_meta("bootstrap", as_bytes(bootstrap)));
  } else {
    auto store = AccountStore::create(store_options);
    if (!store.ok()) co_return std::move(store).error();
    client->store_ = std::move(*store);
    auto identity = crypto::Ed25519KeyPair::generate();
    auto device_key = crypto::X25519KeyPair::generate();
    auto spk = crypto::e2e::SignedPreKey::generate(identity, 1);
    auto tx = client->store_->transaction();
    if (!tx.ok()) co_return std::move(tx).error();
    SZ_CO_TRY(client->store_->set_secret("identity_seed", identity.secret_key.view().first(32)));
    SZ_CO_TRY(client->store_->set_secret("device_key", device_key.secret_key.view()));
    SZ_CO_TRY(client->store_->set_meta_int("device_id", 1));
    SZ_CO_TRY(client->store_->set_meta("bootstrap", as_bytes(bootstrap)));
    SZ_CO_TRY(client->store_->set_meta_int("registered", 0));
    SZ_CO_TRY(client->store_->set_meta_int("signed_prekey_id", spk.id));
    SZ_CO_TRY(client->store_->set_meta_int("next_prekey_id", 1));
    SZ_CO_TRY(client->store_->put_signed_prekey(spk, unix_millis()));
    SZ_CO_TRY(tx->commit());
  }
  SZ_CO_TRY(client->load_identity());

  auto registered = co_await client->register_device();
  if (!registered.ok()) co_return std::move(registered).error();
  auto uploaded = co_await client->upload_prekeys(true, client->options_.one_time_prekeys);
  if (!uploaded.ok()) co_return std::move(uploaded).error();
  auto certified = co_await client->ensure_certificate();
  if (!certified.ok()) co_return std::move(certified).error();
  SZ_CO_TRY(client->store_->set_meta_int("registered", 1));
  co_return client;
}

// ---- server requests -----------------------------------------------------------

asio::awaitable<Result<ServerConnection*>> Client::connect(bool as_device) {
  auto& slot = as_device ? device_connection_ : anonymous_connection_;
  bool& connecting = as_device ? connecting_device_ : connecting_anonymous_;
  // One dial at a time per kind: a second dial would replace (and close) a connection
  // another coroutine on this executor is already using.
  while (connecting) {
    asio::steady_timer pause(executor_, std::chrono::milliseconds(5));
    co_await pause.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  if (slot && slot->is_open()) co_return slot.get();
  if (slot) note_loss(*slot);
  slot.reset();
  connecting = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{connecting};
  // Not a walk over every endpoint: the dialer races the best-ranked few and widens only
  // as attempts fail (docs/CLIENT.md "Reach").
  auto known = known_endpoints();
  auto candidates = reach::pick_candidates(known, *health_, unix_millis(), options_.race);
  // A named argument, not `as_device ? device_key_ : nullptr` inside the co_await:
  // GCC 12 destroys such a conditional's temporary twice.
  transport::DialOptions dial_options;
  if (as_device) dial_options.client_static = device_key_;
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
  reach::AttemptObserver first_observer = observer;
  auto race = co_await reach::race_dial(executor_, std::move(candidates), std::move(dial_options),
                                        race_options, std::move(first_observer));
  save_health();
  if (!race.ok()) {
    // Every known endpoint failed: a newer map from the HTTPS mirrors or DNS names of the
    // current one may list endpoints the censor has not found yet.
    auto refreshed = co_await map_.refresh_out_of_band(executor_, *store_, options_.timeout);
    if (refreshed.ok() && *refreshed) {
      auto fresh = known_endpoints();
      auto retry = reach::pick_candidates(fresh, *health_, unix_millis(), options_.race);
      transport::DialOptions retry_options;
      if (as_device) retry_options.client_static = device_key_;
      reach::AttemptObserver retry_observer = observer;
      race = co_await reach::race_dial(executor_, std::move(retry), std::move(retry_options), race_options,
                                       std::move(retry_observer));
      save_health();
    }
  }
  if (!race.ok()) {
    // Every direct endpoint failed: try the user's relays (samizdat relay add).
    auto relays = list_relays(*store_);
    if (relays.ok() && !relays->empty()) {
      transport::DialOptions relay_options;
      relay_options.timeout = options_.timeout;
      if (as_device) relay_options.client_static = device_key_;
      auto relayed = co_await dial_through_relays(executor_, std::move(*relays), known, relay_options);
      if (relayed.ok()) {
        spdlog::info("connected through relay {}", relayed->relay.to_uri());
        slot = ServerConnection::adopt(std::move(relayed->stream), relayed->relay);
        if (options_.keepalive.interval.count() > 0) slot->start_keepalive(options_.keepalive);
        if (as_device) last_processed_id_ = 0;
        co_return slot.get();
      }
      spdlog::info("relays did not help either: {}", relayed.error().message);
    }
    Error error = std::move(race).error();
    error.message =
        "cannot reach the server: " + error.message + " (check the network; samizdat retries by itself)";
    co_return error;
  }
  slot = ServerConnection::adopt(std::move(race->stream), race->endpoint);
  if (options_.keepalive.interval.count() > 0) slot->start_keepalive(options_.keepalive);
  spdlog::debug("connected to {} in {} ms", race->endpoint.to_uri(), race->elapsed.count());
  // Envelope ids are only compared within one connection's fetches and pushes; a new
  // connection (or another endpoint) starts afresh. Re-processing is harmless anyway:
  // the ratchet refuses a message it already decrypted.
  if (as_device) last_processed_id_ = 0;
  co_return slot.get();
}

void Client::note_loss(ServerConnection& connection) {
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

void Client::save_health() {
  if (auto saved = save_reach_health(*store_, *health_); !saved.ok()) {
    spdlog::warn("could not save what the dialer learned: {}", saved.error().message);
  }
}

std::vector<transport::Endpoint> Client::known_endpoints() const {
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

Result<std::size_t> Client::import_endpoints(const std::vector<transport::Endpoint>& endpoints) {
  auto before = known_endpoints().size();
  auto merged = imported_;
  for (const auto& endpoint : endpoints) merged.push_back(endpoint);
  SZ_CHECK(save_imported_endpoints(*store_, merged));
  imported_ = std::move(merged);
  std::size_t added = known_endpoints().size() - before;
  health_->clear_backoff();
  save_health();
  return added;
}

Result<std::uint64_t> Client::offer_map(ByteView signed_map, std::string_view channel) {
  auto accepted = SZ_TRY(map_.offer(*store_, signed_map, channel));
  health_->clear_backoff();  // new endpoints, and maybe old ones unblocked: try again
  save_health();
  return accepted->map.version;
}

// Channel 1 (in-band): the server offered a map newer than ours; fetch it on the same
// connection. Best effort: a failure only means we keep the map we have.
asio::awaitable<void> Client::fetch_offered_map(ServerConnection& connection) {
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
  auto accepted = map_.offer(*store_, *bytes, from);
  if (!accepted.ok()) spdlog::info("in-band map refused: {}", accepted.error().message);
}

std::vector<transport::Endpoint> Client::active_endpoints() const {
  std::vector<transport::Endpoint> out;
  for (const auto* slot : {&device_connection_, &anonymous_connection_}) {
    if (*slot && (*slot)->is_open()) out.push_back((*slot)->endpoint());
  }
  return out;
}

std::optional<transport::Endpoint> Client::active_endpoint() const {
  if (device_connection_ && device_connection_->is_open()) return device_connection_->endpoint();
  return std::nullopt;
}

asio::awaitable<Result<ServerConnection*>> Client::authenticated() { co_return co_await connect(true); }
asio::awaitable<Result<ServerConnection*>> Client::anonymous() { co_return co_await connect(false); }

asio::awaitable<Result<wire::ServerMessage>> Client::call(bool as_device, wire::ClientMessage request) {
  auto& slot = as_device ? device_connection_ : anonymous_connection_;
  bool reused = slot && slot->is_open();
  auto connection = co_await connect(as_device);
  if (!connection.ok()) co_return std::move(connection).error();
  auto reply = co_await (*connection)->call(request, options_.timeout);
  if (!reply.ok() && (reply.error().code == Errc::network || reply.error().code == Errc::timeout) && reused &&
      slot && !slot->is_open()) {
    // A connection kept from earlier died (server restart, or the keepalive found the path
    // blocked): one fresh try, through the dialer, which avoids the endpoint that failed.
    note_loss(*slot);
    slot.reset();
    connection = co_await connect(as_device);
    if (!connection.ok()) co_return std::move(connection).error();
    reply = co_await (*connection)->call(std::move(request), options_.timeout);
  }
  if (!reply.ok() && (reply.error().code == Errc::network || reply.error().code == Errc::timeout) && slot) {
    note_loss(*slot);
    slot.reset();
  }
  if (reply.ok() && slot) co_await fetch_offered_map(*slot);
  co_return reply;
}

ClientOptions long_running(ClientOptions options) {
  options.race.respect_backoff = true;
  options.keepalive.interval = std::chrono::milliseconds(15'000);
  options.keepalive.dead_after = std::chrono::milliseconds(10'000);
  options.keepalive.probe_bytes = 32 * 1024;
  options.keepalive.probe_interval = std::chrono::milliseconds(60'000);
  return options;
}

void Client::disconnect() {
  device_connection_.reset();
  anonymous_connection_.reset();
}

asio::awaitable<Status> Client::register_device() {
  wire::ClientMessage request;
  auto* body = request.mutable_register_device();
  body->set_identity_key(identity_.public_key.data(), identity_.public_key.size());
  body->set_device_id(device_id_);
  body->set_noise_static_key(device_key_->public_key.data(), device_key_->public_key.size());
  auto signature = crypto::e2e::sign_device_registration(identity_, device_id_, device_key_->public_key);
  body->set_signature(signature.data(), signature.size());
  auto reply = co_await call(false, std::move(request));
  if (!reply.ok()) {
    // Resuming an init whose reply was lost: the server already has this exact device.
    if (reply.error().code == Errc::already_exists) co_return Status{};
    co_return std::move(reply).error();
  }
  if (!reply->has_device_registered()) {
    co_return make_error(Errc::protocol, "the server answered the registration with something else");
  }
  co_return Status{};
}

asio::awaitable<Status> Client::upload_prekeys(bool with_signed_prekey, std::size_t count) {
  auto first = store_->meta_int("next_prekey_id");
  if (!first.ok()) co_return std::move(first).error();
  auto next_id = static_cast<crypto::e2e::PreKeyId>(first->value_or(1));
  bool spk_pending = with_signed_prekey;
  do {
    std::size_t n = std::min(count, kMaxOneTimePrekeysPerUpload);
    auto prekeys = crypto::e2e::generate_one_time_prekeys(next_id, n);
    {
      // Secrets are stored before their public halves leave: a message to any uploaded
      // prekey can always be decrypted.
      auto tx = store_->transaction();
      if (!tx.ok()) co_return std::move(tx).error();
      SZ_CO_TRY(store_->put_one_time_prekeys(prekeys, unix_millis()));
      SZ_CO_TRY(store_->set_meta_int("next_prekey_id", next_id + static_cast<crypto::e2e::PreKeyId>(n)));
      SZ_CO_TRY(tx->commit());
    }
    wire::ClientMessage request;
    auto* body = request.mutable_upload_prekeys();
    if (spk_pending) {
      auto spk_id = store_->meta_int("signed_prekey_id");
      if (!spk_id.ok()) co_return std::move(spk_id).error();
      auto spk = store_->signed_prekey(static_cast<crypto::e2e::PreKeyId>(spk_id->value_or(1)));
      if (!spk.ok()) co_return std::move(spk).error();
      if (!*spk) co_return make_error(Errc::storage, "the account database lost its signed prekey");
      auto* out = body->mutable_signed_prekey();
      out->set_id((*spk)->id);
      out->set_public_key((*spk)->key_pair.public_key.data(), 32);
      out->set_signature((*spk)->signature.data(), 64);
    }
    for (const auto& prekey : prekeys) {
      auto* out = body->add_one_time_prekeys();
      out->set_id(prekey.id);
      out->set_public_key(prekey.key_pair.public_key.data(), 32);
    }
    auto reply = co_await call(true, std::move(request));
    if (!reply.ok()) co_return std::move(reply).error();
    spk_pending = false;
    next_id += static_cast<crypto::e2e::PreKeyId>(n);
    count -= n;
  } while (count > 0);
  co_return Status{};
}

asio::awaitable<Status> Client::top_up_prekeys() {
  // An empty upload asks the server how many one-time prekeys it still holds.
  wire::ClientMessage request;
  request.mutable_upload_prekeys();
  auto reply = co_await call(true, std::move(request));
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->has_prekeys_stored()) co_return Status{};
  std::size_t remaining = reply->prekeys_stored().one_time_prekeys_remaining();
  std::size_t low =
      std::max<std::size_t>(reply->prekeys_stored().low_watermark(), options_.one_time_prekeys / 4);
  checked_prekeys_ = true;
  if (remaining >= low || remaining >= options_.one_time_prekeys) co_return Status{};
  spdlog::debug("topping up one-time prekeys: the server holds {}", remaining);
  co_return co_await upload_prekeys(false, options_.one_time_prekeys - remaining);
}

asio::awaitable<Status> Client::ensure_certificate() {
  constexpr std::int64_t kRefreshMargin = 60 * 60 * 1000;  // renew an hour before expiry
  if (certificate_ && certificate_->expires_unix_ms > unix_millis() + kRefreshMargin) co_return Status{};
  wire::ClientMessage request;
  request.mutable_get_sender_certificate();
  auto reply = co_await call(true, std::move(request));
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->has_sender_certificate()) {
    co_return make_error(Errc::protocol, "the server answered the certificate request with something else");
  }
  const std::string& bytes = reply->sender_certificate().certificate();
  auto certificate = crypto::e2e::SenderCertificate::parse(as_bytes(bytes));
  if (!certificate.ok()) co_return std::move(certificate).error();
  auto verified = certificate->verify(network_.certificate_key, unix_millis());
  if (!verified.ok()) {
    co_return make_error(Errc::auth_failed,
                         "the server's sender certificate does not verify against the key in "
                         "the bootstrap string (" +
                             verified.error().message + ")");
  }
  if (certificate->sender_identity != identity_.public_key || certificate->sender_device_id != device_id_) {
    co_return make_error(Errc::auth_failed, "the server issued a sender certificate for someone else");
  }
  SZ_CO_TRY(store_->set_meta("sender_certificate", certificate->encode()));
  certificate_ = *certificate;
  co_return Status{};
}

// ---- contacts ------------------------------------------------------------------

Result<ContactRecord> Client::add_contact(std::string_view name, std::string_view invite_text) {
  SZ_CHECK(validate_name(name));
  auto invite = SZ_TRY(Invite::parse(invite_text));
  if (invite.identity_key == identity_.public_key) {
    return make_error(Errc::invalid_argument, "that invite is your own: ask your contact for theirs");
  }
  SZ_TRY(crypto::ed25519_public_to_x25519(invite.identity_key));  // rejects keys that are not curve points
  auto tx = SZ_TRY(store_->transaction());
  auto by_name = SZ_TRY(store_->contact_by_name(name));
  if (by_name && by_name->identity_key != invite.identity_key) {
    return make_error(Errc::already_exists, "the name '" + std::string(name) +
                                                "' is already used for another contact: pick another name");
  }
  auto existing = SZ_TRY(store_->contact_by_identity(invite.identity_key));
  ContactRecord contact;
  if (existing) {
    contact = *existing;
  } else {
    contact.identity_key = invite.identity_key;
    contact.added_at_ms = unix_millis();
    contact.last_activity_ms = contact.added_at_ms;
  }
  contact.name = std::string(name);
  contact.device_id = invite.device_id;
  SZ_CHECK(store_->put_contact(contact));
  SZ_CHECK(tx.commit());
  return contact;
}

Result<std::vector<ContactRecord>> Client::contacts() { return store_->contacts(); }

Result<ContactRecord> Client::find_contact(std::string_view name_or_address) {
  auto by_name = SZ_TRY(store_->contact_by_name(name_or_address));
  if (by_name) return *by_name;
  auto invite = Invite::parse(name_or_address);
  if (invite.ok()) {
    auto by_identity = SZ_TRY(store_->contact_by_identity(invite->identity_key));
    if (by_identity) return *by_identity;
  }
  return make_error(Errc::not_found,
                    "no contact named '" + std::string(name_or_address) +
                        "': add one with `samizdat contact add NAME INVITE` (see `samizdat contacts`)");
}

Result<crypto::e2e::SafetyNumber> Client::safety_number(std::string_view name) {
  auto contact = SZ_TRY(find_contact(name));
  return crypto::e2e::safety_number(identity_.public_key, contact.identity_key);
}

std::string Client::display_name(const Ed25519Public& identity_key) {
  auto contact = store_->contact_by_identity(identity_key);
  if (contact.ok() && *contact && !(*contact)->name.empty()) return (*contact)->name;
  return crypto::e2e::Address::from_identity(identity_key).to_string();
}

Result<std::vector<MessageRecord>> Client::history(std::string_view name, std::size_t limit) {
  auto contact = SZ_TRY(find_contact(name));
  return store_->history(contact.identity_key, limit);
}

}  // namespace samizdat::client
