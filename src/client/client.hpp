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

#include "client/account_store.hpp"
#include "client/contact_map.hpp"
#include "client/invite.hpp"
#include "client/map_keeper.hpp"
#include "client/network_config.hpp"
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

// Outcome of pushing the outbox to the server.
struct FlushReport {
  std::size_t sent = 0;     // envelopes the server made durable
  std::size_t failed = 0;   // given up on (message marked failed with a reason)
  std::size_t pending = 0;  // still in the outbox
};

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

  const crypto::e2e::Address& address() const { return address_; }
  DeviceId device_id() const { return device_id_; }
  MailboxId mailbox() const { return crypto::e2e::mailbox_id(identity_.public_key, device_id_); }
  Invite invite() const { return Invite{identity_.public_key, device_id_}; }
  KeySource key_source() const { return store_->key_params().source; }
  const std::filesystem::path& home() const { return options_.home; }
  const NetworkConfig& network() const { return network_; }
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
  std::vector<transport::Endpoint> known_endpoints() const;
  const reach::HealthBook& health() const { return *health_; }
  // Adds endpoints (from a bootstrap string of the same network, or endpoint URIs with
  // keys); clears backoff so they are tried. Returns how many were new.
  Result<std::size_t> import_endpoints(const std::vector<transport::Endpoint>& endpoints);
  // The newest accepted network map (null without one), and a candidate from any channel
  // (import by hand, a contact): the accepted map's version, or why it was refused.
  const reach::SignedMap* network_map() const { return map_.current(); }
  Result<std::uint64_t> offer_map(ByteView signed_map, std::string_view channel);
  // The endpoints of the open connections (device and anonymous).
  std::vector<transport::Endpoint> active_endpoints() const;
  // The endpoint of the open device connection, if any.
  std::optional<transport::Endpoint> active_endpoint() const;

 private:
  Client(asio::any_io_executor executor, ClientOptions options);
  Status load_identity();
  asio::awaitable<Status> register_device();
  asio::awaitable<Status> upload_prekeys(bool with_signed_prekey, std::size_t count);
  asio::awaitable<Status> top_up_prekeys();
  asio::awaitable<Result<ServerConnection*>> authenticated();
  asio::awaitable<Result<ServerConnection*>> anonymous();
  asio::awaitable<Result<ServerConnection*>> connect(bool as_device);
  asio::awaitable<Result<wire::ServerMessage>> call(bool as_device, wire::ClientMessage request);
  asio::awaitable<Status> ensure_certificate();
  asio::awaitable<Result<FlushReport>> flush_once();
  asio::awaitable<Result<std::optional<crypto::e2e::PreKeyBundle>>> fetch_bundle(const OutboxRecord& entry);
  Status seal_entry(const OutboxRecord& entry, const std::optional<crypto::e2e::PreKeyBundle>& bundle);
  asio::awaitable<Status> send_sealed(std::vector<OutboxRecord> entries, FlushReport& report);
  Status process_batch(const std::vector<wire::Envelope>& envelopes, SyncReport& report);
  Status mark_failed(const OutboxRecord& entry, std::string_view reason);
  void note_loss(ServerConnection& connection);
  void save_health();
  asio::awaitable<void> fetch_offered_map(ServerConnection& connection);
  // Channel 4 (client_contact_map.cpp): the digest sealed into every outgoing message, and
  // what incoming digests, map requests and map replies lead to (requests/replies queued).
  std::optional<wire::ContactMapDigest> advertised_map_digest() const;
  Status apply_contact_maps(const std::vector<ContactMapEvent>& events);

  asio::any_io_executor executor_;
  ClientOptions options_;
  std::unique_ptr<AccountStore> store_;
  NetworkConfig network_;
  crypto::Ed25519KeyPair identity_;
  std::shared_ptr<const crypto::X25519KeyPair> device_key_;
  DeviceId device_id_ = 1;
  crypto::e2e::Address address_;
  std::optional<crypto::e2e::SenderCertificate> certificate_;
  std::unique_ptr<ServerConnection> device_connection_;
  std::unique_ptr<ServerConnection> anonymous_connection_;
  std::shared_ptr<reach::HealthBook> health_ = std::make_shared<reach::HealthBook>();
  std::vector<transport::Endpoint> imported_;
  MapKeeper map_;
  bool fetching_map_ = false;
  bool flushing_ = false;
  bool connecting_device_ = false;
  bool connecting_anonymous_ = false;
  bool flush_again_ = false;
  bool checked_prekeys_ = false;
  std::uint64_t last_processed_id_ = 0;
};

}  // namespace samizdat::client
