// The Samizdat client library: one account on one device. It owns the account database
// (account_store.hpp), talks to samizdatd over the session protocol, and runs the
// end-to-end crypto: X3DH + Double Ratchet per contact device, sealed sender around
// every message, receipts as ordinary sealed messages.
//
// Guarantees:
//  - a message the user sends is in the outbox (and history) before anything touches the
//    network; it leaves the outbox only after the server acknowledged it as durable;
//  - outbox entries are sealed once and resent byte for byte, so retries never advance
//    the ratchet twice;
//  - an incoming envelope is acked to the server only after its ratchet step, the
//    decrypted message and its receipt are committed in one transaction, and a message
//    id already stored is never stored or shown again.
//
// A facade: the Connector reaches the server (connector.hpp), the Outbox sends
// (outbox.hpp), the Inbox receives (inbox.hpp); this class owns them with the account
// database and runs registration, prekeys and contacts.
//
// Single-threaded: every method runs on the executor given at open/init.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/account.hpp"
#include "client/account_store.hpp"
#include "client/connector.hpp"
#include "client/inbox.hpp"
#include "client/invite.hpp"
#include "client/network_config.hpp"
#include "client/outbox.hpp"
#include "client/server_connection.hpp"
#include "crypto/e2e/address.hpp"
#include "crypto/e2e/safety_number.hpp"
#include "crypto/e2e/sender_certificate.hpp"
#include "crypto/keys.hpp"
#include "reach/dialer/endpoint_health.hpp"
#include "reach/dialer/racing_dialer.hpp"

namespace samizdat::client {

struct ClientOptions {
  std::filesystem::path home;
  std::optional<std::string> passphrase;      // SAMIZDAT_PASSPHRASE
  std::chrono::milliseconds timeout{10'000};  // each network step (connect, request)
  Durability durability = Durability::full;
  std::size_t one_time_prekeys = 100;  // uploaded at init and when topping up
  // How endpoints are raced (reach/dialer/racing_dialer.hpp). Long-running mode (chat, a
  // sync loop) should set race.respect_backoff and a keepalive so a connection that dies
  // or is throttled is noticed and replaced without user action.
  reach::RaceOptions race{.stagger = std::chrono::milliseconds(250),
                          .attempt_timeout = std::chrono::milliseconds(5'000),
                          .max_attempts = 3,
                          .respect_backoff = false};
  KeepaliveOptions keepalive;
};

// Long-running defaults (samizdat chat): keepalive pings, throttling probes, backoff respected.
ClientOptions long_running(ClientOptions options);

struct SyncReport {
  FlushReport flushed;
  std::vector<MessageRecord> received;  // new incoming messages, in arrival order
  std::size_t receipts = 0;             // receipts applied to outgoing messages
  std::size_t dropped = 0;              // envelopes that could not be opened (logged)
};

class Client {
 public:
  // Creates the account in options.home (identity, device key, prekeys), registers it with
  // the server named by the bootstrap string and uploads prekeys. If HOME holds an account
  // whose registration never finished, init resumes it.
  static asio::awaitable<Result<std::unique_ptr<Client>>> init(asio::any_io_executor executor,
                                                               ClientOptions options, std::string bootstrap);
  // Opens an existing account (no network).
  static Result<std::unique_ptr<Client>> open(asio::any_io_executor executor, ClientOptions options);

  ~Client();

  const crypto::e2e::Address& address() const { return account_.address; }
  DeviceId device_id() const { return account_.device_id; }
  MailboxId mailbox() const {
    return crypto::e2e::mailbox_id(account_.identity.public_key, account_.device_id);
  }
  Invite invite() const { return Invite{account_.identity.public_key, account_.device_id}; }
  KeySource key_source() const { return store_->key_params().source; }
  const std::filesystem::path& home() const { return options_.home; }
  const NetworkConfig& network() const { return account_.network; }
  AccountStore& store() { return *store_; }

  // Contacts. add_contact: Errc::already_exists if NAME is taken by someone else or the
  // invite is the user's own; re-adding the same person under a new name renames them.
  Result<ContactRecord> add_contact(std::string_view name, std::string_view invite_text);
  Result<std::vector<ContactRecord>> contacts();
  // By name, or by address/invite for someone not named yet. Errc::not_found otherwise.
  Result<ContactRecord> find_contact(std::string_view name_or_address);
  Result<crypto::e2e::SafetyNumber> safety_number(std::string_view name);
  // The contact's name, else their grouped address.
  std::string display_name(const Ed25519Public& identity_key);

  // Writes a text message into history and the outbox (no network). Then call flush_outbox.
  Result<MessageRecord> queue_text(std::string_view name, std::string_view text);
  // Seals what is unsealed and sends the outbox. Errc::network / timeout when the server
  // cannot be reached (everything stays queued for the next command).
  asio::awaitable<Result<FlushReport>> flush_outbox();

  // Flushes the outbox, fetches and processes every queued envelope, acks them, sends
  // delivery receipts and tops up one-time prekeys when low. With wait > 0 and nothing
  // new, waits that long for a pushed envelope.
  asio::awaitable<Result<SyncReport>> sync(std::chrono::milliseconds wait = std::chrono::milliseconds{0});

  // Incoming messages not shown yet; marks them read and queues read receipts (sent by
  // the next flush).
  Result<std::vector<MessageRecord>> take_unread();
  Result<std::vector<MessageRecord>> history(std::string_view name, std::size_t limit = 1000);

  // Closes the server connections (the next network call reconnects).
  void disconnect();

  // Reach (src/reach/dialer): every endpoint this client knows (bootstrap, then imported),
  // what it learned about each, and manual import of more.
  std::vector<transport::Endpoint> known_endpoints() const { return connector_->known_endpoints(); }
  const reach::HealthBook& health() const { return connector_->health(); }
  // Adds endpoints (from a bootstrap string of the same network, or endpoint URIs with
  // keys); clears backoff so they are tried. Returns how many were new.
  Result<std::size_t> import_endpoints(const std::vector<transport::Endpoint>& endpoints) {
    return connector_->import_endpoints(endpoints);
  }
  // The newest accepted network map (null without one), and a candidate from any channel
  // (import by hand, a contact): the accepted map's version, or why it was refused.
  const reach::SignedMap* network_map() const { return connector_->map().current(); }
  Result<std::uint64_t> offer_map(ByteView signed_map, std::string_view channel) {
    return connector_->offer_map(signed_map, channel);
  }
  // The endpoints of the open connections (device and anonymous).
  std::vector<transport::Endpoint> active_endpoints() const { return connector_->active_endpoints(); }
  // The endpoint of the open device connection, if any.
  std::optional<transport::Endpoint> active_endpoint() const { return connector_->active_endpoint(); }

 private:
  Client(asio::any_io_executor executor, ClientOptions options);
  // Loads the account from the database and builds the connector, outbox and inbox.
  Status load_identity();
  asio::awaitable<Status> register_device();
  asio::awaitable<Status> upload_prekeys(bool with_signed_prekey, std::size_t count);
  asio::awaitable<Status> top_up_prekeys();

  asio::any_io_executor executor_;
  ClientOptions options_;
  // Declared in dependency order: the parts below refer to those above.
  std::unique_ptr<AccountStore> store_;
  Account account_;
  std::unique_ptr<Connector> connector_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Inbox> inbox_;
  bool checked_prekeys_ = false;
};

}  // namespace samizdat::client
