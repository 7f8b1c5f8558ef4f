// Envelopes as the server stores them: an opaque ciphertext addressed to a mailbox.
// The server never learns the sender; nothing here names one.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "util/bytes.hpp"

namespace samizdat::store {

inline constexpr std::size_t kMailboxIdSize = 32;
using MailboxId = std::array<std::uint8_t, kMailboxIdSize>;

// Assigned by the store: > 0, unique per store, strictly increasing in commit order and
// never reused (not even after the newest envelope is acknowledged and deleted), so a
// client may page with "after_id".
using StoredEnvelopeId = std::int64_t;

struct NewEnvelope {
  MailboxId mailbox{};
  Bytes ciphertext;
  // Unix milliseconds after which the envelope may be deleted unread. 0 = the store's
  // retention (StoreLimits::retention_ms); later values are clamped to now + retention.
  std::int64_t expires_at_ms = 0;
};

struct StoredEnvelope {
  StoredEnvelopeId id = 0;
  MailboxId mailbox{};
  Bytes ciphertext;
  std::int64_t received_at_ms = 0;  // server wall clock when the append was committed
  std::int64_t expires_at_ms = 0;
};

// Short hex prefix for log lines and error messages ("mailbox 3fa2c1d0…").
std::string describe_mailbox(const MailboxId& mailbox);

}  // namespace samizdat::store
