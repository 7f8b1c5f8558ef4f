// Bounds every storage backend enforces (Errc::limit_exceeded when hit).
#pragma once

#include <cstddef>
#include <cstdint>

namespace samizdat::store {

struct StoreLimits {
  std::size_t max_envelope_bytes = 256 * 1024;          // one ciphertext
  std::size_t max_queued_per_mailbox = 10'000;          // envelopes waiting for an ack
  std::int64_t retention_ms = 30LL * 24 * 3600 * 1000;  // queued envelopes expire after this
  std::size_t max_envelopes_per_append = 1'000;         // recipients of one multi-recipient send
  std::size_t max_fetch = 1'000;                        // fetch() limit is clamped to this
  std::size_t max_fetch_bytes = 4 * 1024 * 1024;        // fetch() stops adding envelopes past this
  std::size_t max_one_time_prekeys = 1'000;             // stored per mailbox
  std::size_t max_prekey_bytes = 256;                   // a prekey public key or signature
};

}  // namespace samizdat::store
