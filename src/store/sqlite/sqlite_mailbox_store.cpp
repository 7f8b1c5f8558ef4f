#include "store/sqlite/sqlite_mailbox_store.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>

#include "crypto/secret.hpp"
#include "util/clock.hpp"

namespace samizdat::store::sqlite {
namespace {

constexpr const char* kHighWaterKey = "next_envelope_id";
// Rows deleted per expiry transaction, so a large sweep never stalls appends for long.
constexpr std::int64_t kExpireChunk = 4096;
// Bound on the cached per-mailbox counts; past it the cache starts over.
constexpr std::size_t kMaxCachedMailboxes = 1'000'000;

}  // namespace

MailboxIdHash::MailboxIdHash() {
  crypto::ensure_initialized();
  randombytes_buf(key_.data(), key_.size());
}

std::size_t MailboxIdHash::operator()(const MailboxId& mailbox) const {
  std::uint64_t out = 0;
  static_assert(crypto_shorthash_BYTES == sizeof(out));
  crypto_shorthash(reinterpret_cast<unsigned char*>(&out), mailbox.data(), mailbox.size(), key_.data());
  return static_cast<std::size_t>(out);
}

Result<std::int64_t> SqliteMailboxStore::load_next_id(Connection& db) {
  // Rows can be deleted, so the largest stored id is not enough: acks and expiry record
  // the high-water mark in `meta` in the same transaction as their deletes.
  std::int64_t max_id =
      SZ_TRY(db.query_int("SELECT coalesce(max(id), 0) FROM envelopes", "reading the largest envelope id"));
  std::int64_t high_water = SZ_TRY(db.query_int(
      fmt::format("SELECT coalesce((SELECT value FROM meta WHERE key = '{}'), 1)", kHighWaterKey),
      "reading the envelope id high-water mark"));
  return std::max(max_id + 1, high_water);
}

SqliteMailboxStore::SqliteMailboxStore(GroupCommitWriter& writer, ReaderPool& readers, StoreLimits limits,
                                       std::int64_t next_id)
    : writer_(writer), readers_(readers), limits_(limits), next_id_(next_id) {
  writer_.on_rollback([this] { states_.clear(); });
}

void SqliteMailboxStore::append(std::vector<NewEnvelope> envelopes, AppendCallback done) {
  writer_.submit(make_request<std::vector<StoredEnvelopeId>>(
      [this, envelopes = std::move(envelopes)](Connection& db) { return apply_append(db, envelopes); },
      std::move(done)));
}

Result<SqliteMailboxStore::MailboxState*> SqliteMailboxStore::find_state(Connection& db,
                                                                         const MailboxId& mailbox) {
  if (auto found = states_.find(mailbox); found != states_.end()) return &found->second;
  auto lookup = SZ_TRY(db.prepare(
      "SELECT mailbox_no, (SELECT count(*) FROM envelopes WHERE envelopes.mailbox_no = mailboxes.mailbox_no) "
      "FROM mailboxes WHERE mailbox = ?1"));
  lookup->bind_no_copy(1, ByteView(mailbox));
  if (!SZ_TRY(lookup->step("looking up a mailbox"))) return static_cast<MailboxState*>(nullptr);
  if (states_.size() >= kMaxCachedMailboxes) states_.clear();
  auto [it, inserted] =
      states_.emplace(mailbox, MailboxState{lookup->column_int64(0), lookup->column_int64(1)});
  return &it->second;
}

Result<SqliteMailboxStore::MailboxState*> SqliteMailboxStore::create_state(Connection& db,
                                                                           const MailboxId& mailbox) {
  if (MailboxState* state = SZ_TRY(find_state(db, mailbox))) return state;
  auto insert = SZ_TRY(db.prepare("INSERT INTO mailboxes (mailbox) VALUES (?1)"));
  insert->bind_no_copy(1, ByteView(mailbox));
  SZ_CHECK(insert->run("adding a mailbox"));
  auto [it, inserted] = states_.emplace(mailbox, MailboxState{sqlite3_last_insert_rowid(db.handle()), 0});
  return &it->second;
}

Result<std::vector<StoredEnvelopeId>> SqliteMailboxStore::apply_append(
    Connection& db, const std::vector<NewEnvelope>& envelopes) {
  // Everything is checked before the first insert, so a refused request changes nothing.
  if (envelopes.empty()) return make_error(Errc::invalid_argument, "an append needs at least one envelope");
  if (envelopes.size() > limits_.max_envelopes_per_append) {
    return make_error(
        Errc::limit_exceeded,
        fmt::format("one send may address at most {} mailboxes, this one addresses {}: split it",
                    limits_.max_envelopes_per_append, envelopes.size()));
  }
  for (const auto& envelope : envelopes) {
    if (envelope.ciphertext.empty()) {
      return make_error(Errc::invalid_argument, fmt::format("the envelope for {} has an empty ciphertext",
                                                            describe_mailbox(envelope.mailbox)));
    }
    if (envelope.ciphertext.size() > limits_.max_envelope_bytes) {
      return make_error(
          Errc::limit_exceeded,
          fmt::format("an envelope of {} bytes exceeds the limit of {} bytes: send large content "
                      "as an attachment",
                      envelope.ciphertext.size(), limits_.max_envelope_bytes));
    }
  }
  // Per-mailbox room, counting several envelopes to one mailbox in the same send.
  std::vector<std::pair<const MailboxId*, std::int64_t>> adding;
  for (const auto& envelope : envelopes) {
    auto same = std::find_if(adding.begin(), adding.end(),
                             [&](const auto& entry) { return *entry.first == envelope.mailbox; });
    if (same != adding.end()) {
      ++same->second;
    } else {
      adding.emplace_back(&envelope.mailbox, 1);
    }
  }
  for (const auto& [mailbox, n] : adding) {
    MailboxState* state = SZ_TRY(find_state(db, *mailbox));
    std::int64_t present = state != nullptr ? state->queued : 0;
    if (present + n > static_cast<std::int64_t>(limits_.max_queued_per_mailbox)) {
      return make_error(Errc::limit_exceeded,
                        fmt::format("{} is full ({} envelopes queued, the limit is {}): the recipient must "
                                    "fetch and acknowledge before more can be queued",
                                    describe_mailbox(*mailbox), present, limits_.max_queued_per_mailbox));
    }
  }

  auto insert =
      SZ_TRY(db.prepare("INSERT INTO envelopes (id, mailbox_no, received_at, expires_at, ciphertext) VALUES "
                        "(?1, ?2, ?3, ?4, ?5)"));
  const std::int64_t now = unix_millis();
  const std::int64_t latest_expiry = now + limits_.retention_ms;
  std::vector<StoredEnvelopeId> ids;
  ids.reserve(envelopes.size());
  for (const auto& envelope : envelopes) {
    MailboxState* state = SZ_TRY(create_state(db, envelope.mailbox));
    std::int64_t id = next_id_++;
    std::int64_t expires =
        envelope.expires_at_ms == 0 ? latest_expiry : std::min(envelope.expires_at_ms, latest_expiry);
    insert->bind(1, id);
    insert->bind(2, state->number);
    insert->bind(3, now);
    insert->bind(4, expires);
    insert->bind_no_copy(5, ByteView(envelope.ciphertext));
    SZ_CHECK(insert->run("storing an envelope"));
    insert->reset();
    ids.push_back(id);
    ++state->queued;
  }
  return ids;
}

Status SqliteMailboxStore::record_high_water(Connection& db) {
  auto stmt =
      SZ_TRY(db.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)"));
  stmt->bind_text(1, kHighWaterKey);
  stmt->bind(2, next_id_);
  return stmt->run("recording the envelope id high-water mark");
}

void SqliteMailboxStore::ack(const MailboxId& mailbox, std::vector<StoredEnvelopeId> ids,
                             CountCallback done) {
  writer_.submit(make_request<std::size_t>(
      [this, mailbox, ids = std::move(ids)](Connection& db) { return apply_ack(db, mailbox, ids); },
      std::move(done)));
}

Result<std::size_t> SqliteMailboxStore::apply_ack(Connection& db, const MailboxId& mailbox,
                                                  const std::vector<StoredEnvelopeId>& ids) {
  if (ids.empty()) return std::size_t{0};
  MailboxState* state = SZ_TRY(find_state(db, mailbox));
  if (state == nullptr) return std::size_t{0};  // nothing was ever queued there
  SZ_CHECK(record_high_water(db));
  auto stmt = SZ_TRY(db.prepare("DELETE FROM envelopes WHERE id = ?1 AND mailbox_no = ?2"));
  std::size_t deleted = 0;
  for (StoredEnvelopeId id : ids) {
    stmt->bind(1, id);
    stmt->bind(2, state->number);
    SZ_CHECK(stmt->run("deleting an acknowledged envelope"));
    stmt->reset();
    deleted += static_cast<std::size_t>(db.changes());
  }
  state->queued -= static_cast<std::int64_t>(deleted);
  return deleted;
}

void SqliteMailboxStore::expire(std::int64_t now_ms, CountCallback done) {
  expire_from(now_ms, 0, std::move(done));
}

void SqliteMailboxStore::expire_from(std::int64_t now_ms, std::size_t deleted_so_far, CountCallback done) {
  writer_.submit(make_request<std::size_t>(
      [this, now_ms](Connection& db) { return apply_expire_chunk(db, now_ms); },
      [this, now_ms, deleted_so_far, done = std::move(done)](Result<std::size_t> chunk) mutable {
        if (!chunk.ok()) return done(std::move(chunk).error());
        std::size_t total = deleted_so_far + *chunk;
        // A full chunk means there may be more: continue in a later transaction so appends
        // queued meanwhile get their turn.
        if (*chunk == static_cast<std::size_t>(kExpireChunk))
          return expire_from(now_ms, total, std::move(done));
        done(total);
      }));
}

Result<std::size_t> SqliteMailboxStore::apply_expire_chunk(Connection& db, std::int64_t now_ms) {
  SZ_CHECK(record_high_water(db));
  auto stmt =
      SZ_TRY(db.prepare("DELETE FROM envelopes WHERE id IN "
                        "(SELECT id FROM envelopes WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)"));
  stmt->bind(1, now_ms);
  stmt->bind(2, kExpireChunk);
  SZ_CHECK(stmt->run("deleting expired envelopes"));
  auto deleted = static_cast<std::size_t>(db.changes());
  // Sweeps are rare: recounting the affected mailboxes lazily is simpler than tracking them.
  if (deleted > 0) states_.clear();
  return deleted;
}

Result<std::vector<StoredEnvelope>> SqliteMailboxStore::fetch(const MailboxId& mailbox,
                                                              StoredEnvelopeId after_id, std::size_t limit) {
  limit = std::min(limit, limits_.max_fetch);
  std::vector<StoredEnvelope> out;
  if (limit == 0) return out;
  auto db = SZ_TRY(readers_.acquire());
  auto stmt =
      SZ_TRY(db->prepare("SELECT id, received_at, expires_at, ciphertext FROM envelopes "
                         "WHERE mailbox_no = (SELECT mailbox_no FROM mailboxes WHERE mailbox = ?1) "
                         "AND id > ?2 AND expires_at > ?3 ORDER BY id LIMIT ?4"));
  stmt->bind_no_copy(1, ByteView(mailbox));
  stmt->bind(2, after_id);
  stmt->bind(3, unix_millis());
  stmt->bind(4, static_cast<std::int64_t>(limit));
  std::size_t bytes = 0;
  for (;;) {
    bool row = SZ_TRY(stmt->step("fetching envelopes"));
    if (!row) break;
    StoredEnvelope envelope;
    envelope.id = stmt->column_int64(0);
    envelope.mailbox = mailbox;
    envelope.received_at_ms = stmt->column_int64(1);
    envelope.expires_at_ms = stmt->column_int64(2);
    envelope.ciphertext = stmt->column_bytes(3);
    bytes += envelope.ciphertext.size();
    if (!out.empty() && bytes > limits_.max_fetch_bytes) break;
    out.push_back(std::move(envelope));
  }
  return out;
}

Result<std::size_t> SqliteMailboxStore::count(const MailboxId& mailbox) {
  auto db = SZ_TRY(readers_.acquire());
  auto stmt =
      SZ_TRY(db->prepare("SELECT count(*) FROM envelopes WHERE mailbox_no = (SELECT mailbox_no FROM "
                         "mailboxes WHERE mailbox = ?1)"));
  stmt->bind_no_copy(1, ByteView(mailbox));
  SZ_TRY(stmt->step("counting a mailbox's envelopes"));
  return static_cast<std::size_t>(stmt->column_int64(0));
}

}  // namespace samizdat::store::sqlite
