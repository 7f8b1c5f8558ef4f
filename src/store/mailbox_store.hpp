// MailboxStore: queued envelopes per mailbox, durable before acknowledged, deleted only
// when the recipient acks or the retention passes.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "store/envelope.hpp"
#include "util/result.hpp"

namespace samizdat::store {

class MailboxStore {
 public:
  // Completion callbacks run on the store's writer thread after the transaction is
  // durable (or failed). Keep them short: post the result back to your own executor.
  // They may call into the store again (no lock is held while they run), but must not
  // close it. A request refused because the store is closed or overloaded
  // (Errc::unavailable) is answered at once on the calling thread.
  using AppendCallback = std::function<void(Result<std::vector<StoredEnvelopeId>>)>;
  using CountCallback = std::function<void(Result<std::size_t>)>;

  virtual ~MailboxStore() = default;

  // Stores every envelope or none (one multi-recipient send is all-or-nothing). The ids
  // come back in the order given. Errors: limit_exceeded (envelope too big, too many
  // envelopes, mailbox full), invalid_argument (empty ciphertext), unavailable (store
  // closed or overloaded: retry later), storage (the disk failed).
  virtual void append(std::vector<NewEnvelope> envelopes, AppendCallback done) = 0;

  // Unexpired envelopes of `mailbox` with id > after_id, in id order: at most `limit`
  // (clamped to StoreLimits::max_fetch), and no more once their ciphertexts pass
  // StoreLimits::max_fetch_bytes (at least one is returned). Synchronous read on a reader
  // connection; never waits for the writer. Sees every append whose callback has run.
  virtual Result<std::vector<StoredEnvelope>> fetch(const MailboxId& mailbox, StoredEnvelopeId after_id,
                                                    std::size_t limit) = 0;

  // Deletes those of `ids` that belong to `mailbox`; unknown ids and other mailboxes'
  // ids are ignored (not an error). `done` gets how many were deleted.
  virtual void ack(const MailboxId& mailbox, std::vector<StoredEnvelopeId> ids, CountCallback done) = 0;

  // Deletes every envelope with expires_at_ms <= now_ms; `done` gets how many.
  virtual void expire(std::int64_t now_ms, CountCallback done) = 0;

  // Envelopes stored for `mailbox`, including expired ones the next expire() will delete
  // (synchronous read).
  virtual Result<std::size_t> count(const MailboxId& mailbox) = 0;
};

}  // namespace samizdat::store
