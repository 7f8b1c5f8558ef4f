// GroupCommitWriter: the single writer thread. It drains a queue of write requests and
// runs as many as are waiting (up to a bound) in one transaction, so one WAL fsync makes
// a whole batch durable; only then do the requests' callbacks run.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "store/sqlite/connection.hpp"
#include "util/result.hpp"

namespace samizdat::store::sqlite {

class WriteRequest {
 public:
  virtual ~WriteRequest() = default;
  // Runs inside the batch transaction on the writer thread. An Errc::storage error means
  // the database refused mid-way: the transaction is rolled back and the rest of the batch
  // retried without this request. Any other error is this request's answer and must leave
  // the database untouched.
  virtual Status apply(Connection& db) = 0;
  // After COMMIT (ok) or with the reason the request failed; runs the caller's callback.
  virtual void finish(const Status& outcome) = 0;
};

// A WriteRequest from a lambda producing Result<T> and the callback that receives it.
template <class T>
class CallbackRequest final : public WriteRequest {
 public:
  CallbackRequest(std::function<Result<T>(Connection&)> body, std::function<void(Result<T>)> done)
      : body_(std::move(body)), done_(std::move(done)) {}
  Status apply(Connection& db) override {
    result_.emplace(body_(db));
    if (!result_->ok()) return result_->error();
    return {};
  }
  void finish(const Status& outcome) override {
    if (!outcome.ok()) {
      done_(outcome.error());
    } else {
      done_(std::move(*result_));
    }
  }

 private:
  std::function<Result<T>(Connection&)> body_;
  std::function<void(Result<T>)> done_;
  std::optional<Result<T>> result_;
};

template <class T>
std::unique_ptr<WriteRequest> make_request(std::function<Result<T>(Connection&)> body,
                                           std::function<void(Result<T>)> done) {
  return std::make_unique<CallbackRequest<T>>(std::move(body), std::move(done));
}

class GroupCommitWriter {
 public:
  struct Options {
    std::size_t max_requests_per_transaction = 8192;
    std::size_t max_pending_requests = 200'000;
  };

  // Takes the write connection; the thread starts at once.
  GroupCommitWriter(std::unique_ptr<Connection> db, Options options);
  ~GroupCommitWriter();  // stop()

  // Queues a request. When stopped or over max_pending_requests, finishes it at once (on
  // the calling thread) with Errc::unavailable.
  void submit(std::unique_ptr<WriteRequest> request);

  // Called on the writer thread after a rollback, so in-memory caches that mirror the
  // database can be dropped. Register before the first submit().
  void on_rollback(std::function<void()> hook) { rollback_hooks_.push_back(std::move(hook)); }

  // Finishes everything already queued, then joins the thread. Idempotent.
  void stop();

 private:
  void run();
  void commit_batch(std::vector<std::unique_ptr<WriteRequest>>& batch);
  void rollback();

  std::unique_ptr<Connection> db_;
  Options options_;
  std::vector<std::function<void()>> rollback_hooks_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<WriteRequest>> queue_;  // swapped out whole by the writer
  bool stopping_ = false;
  bool writer_idle_ = false;  // waiting on wake_: a submit to an empty queue must notify
  std::thread thread_;
};

}  // namespace samizdat::store::sqlite
