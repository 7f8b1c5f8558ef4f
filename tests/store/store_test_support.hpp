// Shared by the store tests: a temporary directory and blocking waits on the store's
// completion callbacks.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>

#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace samizdat::store::testing {

using samizdat::testing::TempDir;

// Calls `start(callback)` and blocks until the callback delivers its result.
template <class T, class Start>
Result<T> wait_for(Start start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> result) { promise->set_value(std::move(result)); });
  return future.get();
}

inline Result<std::vector<StoredEnvelopeId>> append_now(MailboxStore& store,
                                                        std::vector<NewEnvelope> envelopes) {
  return wait_for<std::vector<StoredEnvelopeId>>(
      [&](auto done) { store.append(std::move(envelopes), std::move(done)); });
}

inline Result<std::size_t> ack_now(MailboxStore& store, const MailboxId& mailbox,
                                   std::vector<StoredEnvelopeId> ids) {
  return wait_for<std::size_t>([&](auto done) { store.ack(mailbox, std::move(ids), std::move(done)); });
}

inline Result<std::size_t> expire_now(MailboxStore& store, std::int64_t now_ms) {
  return wait_for<std::size_t>([&](auto done) { store.expire(now_ms, std::move(done)); });
}

inline MailboxId mailbox_of(std::uint8_t tag) {
  MailboxId id{};
  id.fill(tag);
  return id;
}

inline Bytes random_payload(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(size);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

inline NewEnvelope envelope_to(const MailboxId& mailbox, Bytes ciphertext, std::int64_t expires_at_ms = 0) {
  return NewEnvelope{mailbox, std::move(ciphertext), expires_at_ms};
}

inline std::unique_ptr<SqliteStore> open_store(const std::filesystem::path& file,
                                               SqliteStoreOptions options = {}) {
  auto store = SqliteStore::open(file, options);
  if (!store.ok()) ADD_FAILURE() << store.error().describe();
  return store.ok() ? std::move(store).value() : nullptr;
}

}  // namespace samizdat::store::testing
