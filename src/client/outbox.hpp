// The sending half of the client: a message is queued in the account database (with its
// history entry) before anything touches the network, sealed once (X3DH on first contact,
// then the ratchet, sealed sender around it) and resent byte for byte, over the anonymous
// connection, until the server acknowledges it as durable.
#pragma once

#include <asio/awaitable.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "client/account.hpp"
#include "client/account_store.hpp"
#include "client/connector.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "crypto/e2e/sender_certificate.hpp"

namespace samizdat::client {

// Outcome of pushing the outbox to the server.
struct FlushReport {
  std::size_t sent = 0;     // envelopes the server made durable
  std::size_t failed = 0;   // given up on (message marked failed with a reason)
  std::size_t pending = 0;  // still in the outbox
};

class Outbox {
 public:
  // All three must outlive the outbox.
  Outbox(AccountStore& store, Connector& connector, const Account& account)
      : store_(store), connector_(connector), account_(account) {}

  // The sender certificate kept from an earlier run, if any.
  Status load_certificate();

  // Writes a text message into history and the outbox (no network).
  Result<MessageRecord> queue_text(const ContactRecord& contact, std::string_view text);
  // Seals what is unsealed and sends the outbox. Errc::network / timeout when the server
  // cannot be reached (everything stays queued for the next flush). A flush asked for
  // while one runs makes that one go round once more.
  asio::awaitable<Result<FlushReport>> flush();
  // Fetches a sender certificate when there is none or it expires within the hour.
  asio::awaitable<Status> ensure_certificate();

 private:
  asio::awaitable<Result<FlushReport>> flush_once();
  asio::awaitable<Result<std::optional<crypto::e2e::PreKeyBundle>>> fetch_bundle(const OutboxRecord& entry);
  Status seal_entry(const OutboxRecord& entry, const std::optional<crypto::e2e::PreKeyBundle>& bundle);
  asio::awaitable<Status> send_sealed(std::vector<OutboxRecord> entries, FlushReport& report);
  Status mark_failed(const OutboxRecord& entry, std::string_view reason);

  AccountStore& store_;
  Connector& connector_;
  const Account& account_;
  std::optional<crypto::e2e::SenderCertificate> certificate_;
  bool flushing_ = false;
  bool flush_again_ = false;
};

}  // namespace samizdat::client
