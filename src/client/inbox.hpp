// The receiving half of the client: envelopes fetched (and pushed) over the device
// connection are opened, decrypted and stored, with the delivery receipts they call for,
// in one transaction per batch; only then are they acked to the server. A message id
// already stored is never stored or shown again.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include "client/account.hpp"
#include "client/account_store.hpp"
#include "client/connector.hpp"
#include "samizdat/session.pb.h"

namespace samizdat::client {

struct ReceiveReport {
  std::vector<MessageRecord> received;  // new incoming messages, in arrival order
  std::size_t receipts = 0;             // receipts applied to outgoing messages
  std::size_t dropped = 0;              // envelopes that could not be opened (logged)
};

class Inbox {
 public:
  // All three must outlive the inbox.
  Inbox(AccountStore& store, Connector& connector, const Account& account)
      : store_(store), connector_(connector), account_(account) {}

  // Fetches, processes and acks every queued envelope, then those pushed meanwhile; with
  // `wait` > 0 and nothing new, waits that long for a pushed one.
  asio::awaitable<Status> receive(ReceiveReport& report, std::chrono::milliseconds wait);
  // Incoming messages not shown yet; marks them read and queues read receipts.
  Result<std::vector<MessageRecord>> take_unread();
  // Whether a first message used up one of our one-time prekeys since the last call.
  bool take_consumed_prekey() { return std::exchange(consumed_prekey_, false); }

 private:
  Status process_batch(const std::vector<wire::Envelope>& envelopes, ReceiveReport& report);
  asio::awaitable<Status> ack(const std::vector<wire::Envelope>& envelopes);

  AccountStore& store_;
  Connector& connector_;
  const Account& account_;
  // Envelope ids compare only within one device connection (Connector::device_connections).
  std::uint64_t last_processed_id_ = 0;
  std::uint64_t last_processed_connection_ = 0;
  bool consumed_prekey_ = false;
};

}  // namespace samizdat::client
