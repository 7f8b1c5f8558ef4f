#include "store/sqlite/group_commit_writer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace samizdat::store::sqlite {

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<Connection> db, Options options)
    : db_(std::move(db)), options_(options) {
  if (options_.max_requests_per_transaction == 0) options_.max_requests_per_transaction = 1;
  thread_ = std::thread([this] { run(); });
}

GroupCommitWriter::~GroupCommitWriter() { stop(); }

void GroupCommitWriter::submit(std::unique_ptr<WriteRequest> request) {
  bool closed = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    closed = stopping_;
    if (!closed && queue_.size() < options_.max_pending_requests) {
      queue_.push_back(std::move(request));
      wake = queue_.size() == 1 && writer_idle_;
      request = nullptr;
    }
  }
  // Notified outside the lock: the woken writer must not block at once on the mutex we hold.
  if (wake) wake_.notify_one();
  if (!request) return;
  request->finish(make_error(Errc::unavailable, closed ? "the store is closed: the server is shutting down"
                                                       : "the store is overloaded (too many pending "
                                                         "writes): retry in a moment"));
}

void GroupCommitWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void GroupCommitWriter::run() {
  // The lock is held only to swap the queue: every allocation and free of requests (whose
  // memory belongs to the session threads' malloc arenas) happens outside it, so a session
  // thread calling submit() never waits behind the writer's housekeeping.
  std::vector<std::unique_ptr<WriteRequest>> pending;
  std::vector<std::unique_ptr<WriteRequest>> batch;
  for (;;) {
    if (pending.empty()) {
      std::unique_lock lock(mutex_);
      if (queue_.empty() && !stopping_) {
        writer_idle_ = true;
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        writer_idle_ = false;
      }
      if (queue_.empty()) return;  // stopping and drained
      // Take whatever has accumulated while the previous batch was being synced: under
      // load the batch grows by itself; when idle a lone request commits at once (no timer).
      pending.swap(queue_);
    }
    std::size_t n = std::min(pending.size(), options_.max_requests_per_transaction);
    batch.assign(std::make_move_iterator(pending.begin()),
                 std::make_move_iterator(pending.begin() + static_cast<std::ptrdiff_t>(n)));
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
    commit_batch(batch);
    batch.clear();
  }
}

void GroupCommitWriter::rollback() {
  Status status = db_->exec("ROLLBACK", "rolling back a failed batch");
  if (!status.ok()) spdlog::warn("store: {}", status.error().message);
  for (auto& hook : rollback_hooks_) hook();
}

void GroupCommitWriter::commit_batch(std::vector<std::unique_ptr<WriteRequest>>& batch) {
  // A request whose SQL fails poisons the transaction; retry the others without it, a few
  // times at most (a failing disk would otherwise cost one transaction per request).
  constexpr int kMaxRetries = 3;
  std::vector<Status> outcomes;
  for (int attempt = 0;; ++attempt) {
    if (batch.empty()) return;
    Status begin = db_->exec("BEGIN IMMEDIATE", "starting a write transaction");
    if (!begin.ok()) {
      for (auto& request : batch) request->finish(begin);
      return;
    }
    outcomes.assign(batch.size(), Status{});
    std::optional<std::size_t> failed;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      outcomes[i] = batch[i]->apply(*db_);
      if (!outcomes[i].ok() && outcomes[i].error().code == Errc::storage) {
        failed = i;
        break;
      }
    }
    if (failed) {
      rollback();
      spdlog::warn("store: a write failed and its batch was rolled back: {}",
                   outcomes[*failed].error().message);
      batch[*failed]->finish(outcomes[*failed]);
      batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(*failed));
      if (attempt + 1 < kMaxRetries) continue;
      Status gave_up = make_error(Errc::storage, "the database kept failing writes; see the server log");
      for (auto& request : batch) request->finish(gave_up);
      return;
    }
    // With synchronous=FULL this COMMIT returns only after the WAL is fsynced.
    Status commit = db_->exec("COMMIT", "committing a write transaction");
    if (!commit.ok()) {
      rollback();
      spdlog::warn("store: {}", commit.error().message);
      for (auto& request : batch) request->finish(commit);
      return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->finish(outcomes[i]);
    return;
  }
}

}  // namespace samizdat::store::sqlite
