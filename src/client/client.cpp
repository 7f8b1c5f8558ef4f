#include "client/client.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

#include "crypto/e2e/device_registration.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

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
  auto seed = SZ_TRY(store_->get(settings::identity_seed));
  auto device_secret = SZ_TRY(store_->get(settings::device_key));
  auto device = SZ_TRY(store_->get(settings::device_id));
  auto bootstrap = SZ_TRY(store_->get(settings::bootstrap));
  if (!seed || seed->size() != 32 || !device_secret || device_secret->size() != 32 || !device || !bootstrap) {
    return make_error(Errc::storage,
                      "the account in " + options_.home.string() +
                          " is incomplete: remove that directory and run `samizdat init` again");
  }
  account_.identity = crypto::Ed25519KeyPair::from_seed(seed->view());
  account_.device_key = std::make_shared<const crypto::X25519KeyPair>(
      crypto::X25519KeyPair::from_secret(device_secret->view()));
  account_.device_id = *device;
  account_.address = crypto::e2e::Address::from_identity(account_.identity.public_key);
  account_.network = SZ_TRY(parse_network_config(*bootstrap));
  ConnectorOptions connector_options{options_.timeout, options_.race, options_.keepalive};
  connector_ =
      SZ_TRY(Connector::load(executor_, *store_, account_.network, account_.device_key, connector_options));
  outbox_ = std::make_unique<Outbox>(*store_, *connector_, account_);
  SZ_CHECK(outbox_->load_certificate());
  inbox_ = std::make_unique<Inbox>(*store_, *connector_, account_);
  return {};
}

Result<std::unique_ptr<Client>> Client::open(asio::any_io_executor executor, ClientOptions options) {
  std::unique_ptr<Client> client(new Client(std::move(executor), std::move(options)));
  client->store_ = SZ_TRY(
      AccountStore::open({client->options_.home, client->options_.passphrase, client->options_.durability}));
  SZ_CHECK(client->load_identity());
  auto registered = SZ_TRY(client->store_->get(settings::registered));
  if (!registered.value_or(false)) {
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
    auto registered = client->store_->get(settings::registered);
    if (!registered.ok()) co_return std::move(registered).error();
    if (registered->value_or(false)) {
      SZ_CO_TRY(client->load_identity());
      co_return make_error(Errc::already_exists,
                           "an account already exists in " + client->options_.home.string() + " (" +
                               client->account_.address.to_string() + "): use it, or pick another --home");
    }
    // An init that could not reach the server: keep the identity, finish registering.
    SZ_CO_TRY(client->store_->put(settings::bootstrap, bootstrap));
  } else {
    auto store = AccountStore::create(store_options);
    if (!store.ok()) co_return std::move(store).error();
    client->store_ = std::move(*store);
    auto identity = crypto::Ed25519KeyPair::generate();
    auto device_key = crypto::X25519KeyPair::generate();
    auto spk = crypto::e2e::SignedPreKey::generate(identity, 1);
    auto tx = client->store_->transaction();
    if (!tx.ok()) co_return std::move(tx).error();
    SZ_CO_TRY(client->store_->put(settings::identity_seed, identity.secret_key.view().first(32)));
    SZ_CO_TRY(client->store_->put(settings::device_key, device_key.secret_key.view()));
    SZ_CO_TRY(client->store_->put(settings::device_id, 1));
    SZ_CO_TRY(client->store_->put(settings::bootstrap, bootstrap));
    SZ_CO_TRY(client->store_->put(settings::registered, false));
    SZ_CO_TRY(client->store_->put(settings::signed_prekey_id, spk.id));
    SZ_CO_TRY(client->store_->put(settings::next_prekey_id, 1));
    SZ_CO_TRY(client->store_->put_signed_prekey(spk, unix_millis()));
    SZ_CO_TRY(tx->commit());
  }
  SZ_CO_TRY(client->load_identity());

  auto registered = co_await client->register_device();
  if (!registered.ok()) co_return std::move(registered).error();
  auto uploaded = co_await client->upload_prekeys(true, client->options_.one_time_prekeys);
  if (!uploaded.ok()) co_return std::move(uploaded).error();
  auto certified = co_await client->outbox_->ensure_certificate();
  if (!certified.ok()) co_return std::move(certified).error();
  SZ_CO_TRY(client->store_->put(settings::registered, true));
  co_return client;
}

ClientOptions long_running(ClientOptions options) {
  options.race.respect_backoff = true;
  options.keepalive.interval = std::chrono::milliseconds(15'000);
  options.keepalive.dead_after = std::chrono::milliseconds(10'000);
  options.keepalive.probe_bytes = 32 * 1024;
  options.keepalive.probe_interval = std::chrono::milliseconds(60'000);
  return options;
}

void Client::disconnect() { connector_->disconnect(); }

asio::awaitable<Status> Client::register_device() {
  wire::ClientMessage request;
  auto* body = request.mutable_register_device();
  const auto& identity = account_.identity;
  const auto& device_key = *account_.device_key;
  body->set_identity_key(identity.public_key.data(), identity.public_key.size());
  body->set_device_id(account_.device_id);
  body->set_noise_static_key(device_key.public_key.data(), device_key.public_key.size());
  auto signature = crypto::e2e::sign_device_registration(identity, account_.device_id, device_key.public_key);
  body->set_signature(signature.data(), signature.size());
  auto reply = co_await connector_->call(Via::anonymous, std::move(request));
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
  auto first = store_->get(settings::next_prekey_id);
  if (!first.ok()) co_return std::move(first).error();
  crypto::e2e::PreKeyId next_id = first->value_or(1);
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
      SZ_CO_TRY(store_->put(settings::next_prekey_id, next_id + static_cast<crypto::e2e::PreKeyId>(n)));
      SZ_CO_TRY(tx->commit());
    }
    wire::ClientMessage request;
    auto* body = request.mutable_upload_prekeys();
    if (spk_pending) {
      auto spk_id = store_->get(settings::signed_prekey_id);
      if (!spk_id.ok()) co_return std::move(spk_id).error();
      auto spk = store_->signed_prekey(spk_id->value_or(1));
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
    auto reply = co_await connector_->call(Via::device, std::move(request));
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
  auto reply = co_await connector_->call(Via::device, std::move(request));
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

// ---- contacts ------------------------------------------------------------------

Result<ContactRecord> Client::add_contact(std::string_view name, std::string_view invite_text) {
  SZ_CHECK(validate_name(name));
  auto invite = SZ_TRY(Invite::parse(invite_text));
  if (invite.identity_key == account_.identity.public_key) {
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
  return crypto::e2e::safety_number(account_.identity.public_key, contact.identity_key);
}

std::string Client::display_name(const Ed25519Public& identity_key) {
  return client::display_name(*store_, identity_key);
}

// ---- messages -----------------------------------------------------------------

Result<MessageRecord> Client::queue_text(std::string_view name, std::string_view text) {
  auto contact = SZ_TRY(find_contact(name));
  return outbox_->queue_text(contact, text);
}

asio::awaitable<Result<FlushReport>> Client::flush_outbox() { co_return co_await outbox_->flush(); }

asio::awaitable<Result<SyncReport>> Client::sync(std::chrono::milliseconds wait) {
  SyncReport report;
  auto flushed = co_await outbox_->flush();
  if (!flushed.ok()) co_return std::move(flushed).error();
  report.flushed = *flushed;

  ReceiveReport received;
  auto receiving = co_await inbox_->receive(received, wait);
  report.received = std::move(received.received);
  report.receipts = received.receipts;
  report.dropped = received.dropped;
  if (!receiving.ok()) co_return std::move(receiving).error();
  if (inbox_->take_consumed_prekey()) checked_prekeys_ = false;

  // Delivery receipts the batch queued, and anything queued meanwhile.
  auto outbox = store_->outbox_size();
  if (!outbox.ok()) co_return std::move(outbox).error();
  if (*outbox > 0) {
    auto receipts = co_await outbox_->flush();
    if (!receipts.ok()) co_return std::move(receipts).error();
    report.flushed.sent += receipts->sent;
    report.flushed.failed += receipts->failed;
    report.flushed.pending = receipts->pending;
  }
  if (!checked_prekeys_) {
    auto topped = co_await top_up_prekeys();
    if (!topped.ok()) co_return std::move(topped).error();
  }
  co_return report;
}

Result<std::vector<MessageRecord>> Client::take_unread() { return inbox_->take_unread(); }

Result<std::vector<MessageRecord>> Client::history(std::string_view name, std::size_t limit) {
  auto contact = SZ_TRY(find_contact(name));
  return store_->history(contact.identity_key, limit);
}

}  // namespace samizdat::client
