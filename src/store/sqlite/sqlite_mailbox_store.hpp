// MailboxStore on SQLite: appends/acks/expiry go through the group-commit writer,
// fetch/count through the reader pool.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "store/mailbox_store.hpp"
#include "store/sqlite/group_commit_writer.hpp"
#include "store/sqlite/reader_pool.hpp"
#include "store/store_limits.hpp"

namespace samizdat::store::sqlite {

// Keyed (SipHash) so that chosen mailbox ids cannot degrade the writer's hash table.
class MailboxIdHash {
 public:
  MailboxIdHash();
  std::size_t operator()(const MailboxId& mailbox) const;

 private:
  std::array<std::uint8_t, 16> key_{};
};

class SqliteMailboxStore final : public MailboxStore {
 public:
  // The first id to hand out: above every id ever handed out, even deleted ones.
  static Result<std::int64_t> load_next_id(Connection& db);

  SqliteMailboxStore(GroupCommitWriter& writer, ReaderPool& readers, StoreLimits limits,
                     std::int64_t next_id);

  void append(std::vector<NewEnvelope> envelopes, AppendCallback done) override;
  Result<std::vector<StoredEnvelope>> fetch(const MailboxId& mailbox, StoredEnvelopeId after_id,
                                            std::size_t limit) override;
  void ack(const MailboxId& mailbox, std::vector<StoredEnvelopeId> ids, CountCallback done) override;
  void expire(std::int64_t now_ms, CountCallback done) override;
  Result<std::size_t> count(const MailboxId& mailbox) override;

 private:
  // Writer thread only.
  Result<std::vector<StoredEnvelopeId>> apply_append(Connection& db,
                                                     const std::vector<NewEnvelope>& envelopes);
  Result<std::size_t> apply_ack(Connection& db, const MailboxId& mailbox,
                                const std::vector<StoredEnvelopeId>& ids);
  Result<std::size_t> apply_expire_chunk(Connection& db, std::int64_t now_ms);
  // What the writer knows about a mailbox that has a row in `mailboxes`.
  struct MailboxState {
    std::int64_t number = 0;  // mailboxes.mailbox_no
    std::int64_t queued = 0;  // envelopes stored
  };
  // The cached state, loaded on a miss; nullptr when the mailbox has no row yet.
  Result<MailboxState*> find_state(Connection& db, const MailboxId& mailbox);
  Result<MailboxState*> create_state(Connection& db, const MailboxId& mailbox);
  Status record_high_water(Connection& db);
  void expire_from(std::int64_t now_ms, std::size_t deleted_so_far, CountCallback done);

  GroupCommitWriter& writer_;
  ReaderPool& readers_;
  StoreLimits limits_;

  // Writer-thread state. next_id_ only grows (ids of rolled-back batches are skipped, never
  // reused). states_ caches mailbox numbers and counts for the limit check; dropped on
  // rollback and after expiry.
  std::int64_t next_id_;
  std::unordered_map<MailboxId, MailboxState, MailboxIdHash> states_;
};

}  // namespace samizdat::store::sqlite
