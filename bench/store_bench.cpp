// Durable envelope appends per second on the SQLite store: group commit (the writer
// commits whatever has queued, one fsync per batch) side by side with the naive baseline
// of one transaction (one fsync) per append. Real files in a temp dir, real fsyncs.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace samizdat;         // NOLINT: a benchmark file, not a header
using namespace samizdat::store;  // NOLINT

constexpr std::size_t kCiphertextBytes = 256;
constexpr int kProducers = 8;
constexpr int kMailboxes = 10'000;
constexpr int kInFlightPerProducer = 512;  // like many sessions of one io_context waiting for acks

class TempStore {
 public:
  explicit TempStore(std::size_t max_requests_per_transaction) {
    std::string pattern = (std::filesystem::temp_directory_path() / "samizdat-store-bench-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    SqliteStoreOptions options;
    options.max_requests_per_transaction = max_requests_per_transaction;
    options.limits.max_queued_per_mailbox = 1'000'000;
    auto opened = SqliteStore::open(dir_ / "server.db", options);
    if (!opened.ok()) throw std::runtime_error(opened.error().describe());
    store_ = std::move(opened).value();
  }
  ~TempStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  MailboxStore& mailboxes() { return store_->mailboxes(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

// kProducers threads each append `per_producer` single-envelope requests, keeping up to
// kInFlightPerProducer unacknowledged; returns when every callback has fired.
void append_from_producers(MailboxStore& mailboxes, int per_producer, std::atomic<std::int64_t>& failures) {
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 rng(static_cast<unsigned>(p));
      std::mutex mutex;
      std::condition_variable changed;
      int in_flight = 0, done = 0;
      Bytes ciphertext(kCiphertextBytes);
      for (auto& b : ciphertext) b = static_cast<std::uint8_t>(rng());
      for (int i = 0; i < per_producer; ++i) {
        {
          std::unique_lock lock(mutex);
          changed.wait(lock, [&] { return in_flight < kInFlightPerProducer; });
          ++in_flight;
        }
        MailboxId mailbox{};
        std::uint32_t m = rng() % kMailboxes;
        std::memcpy(mailbox.data(), &m, sizeof m);
        ciphertext[0] = static_cast<std::uint8_t>(i);
        mailboxes.append({NewEnvelope{mailbox, ciphertext, 0}},
                         [&](Result<std::vector<StoredEnvelopeId>> result) {
                           if (!result.ok()) ++failures;
                           std::lock_guard lock(mutex);
                           --in_flight;
                           ++done;
                           changed.notify_all();
                         });
      }
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return done == per_producer; });
    });
  }
  for (auto& producer : producers) producer.join();
}

void run(benchmark::State& state, std::size_t max_requests_per_transaction, int per_producer) {
  TempStore store(max_requests_per_transaction);
  std::atomic<std::int64_t> failures{0};
  for (auto _ : state) append_from_producers(store.mailboxes(), per_producer, failures);
  state.SetItemsProcessed(state.iterations() * kProducers * per_producer);
  state.counters["failed"] = static_cast<double>(failures.load());
  if (failures.load() > 0) state.SkipWithError("some appends failed");
}

// items_per_second = durable (acknowledged) appends per second.
void BM_DurableAppend_GroupCommit(benchmark::State& state) { run(state, 8192, 25'000); }
void BM_DurableAppend_TransactionPerAppend(benchmark::State& state) { run(state, 1, 100); }

BENCHMARK(BM_DurableAppend_GroupCommit)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(4);
BENCHMARK(BM_DurableAppend_TransactionPerAppend)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
