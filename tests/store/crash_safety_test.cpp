// The crash-safety property: an envelope whose append callback has fired is durable.
// A forked child appends as fast as it can and reports every acknowledged id through a
// pipe; the parent SIGKILLs it at a random point, reopens the file and finds them all.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "store_test_support.hpp"

namespace samizdat::store {
namespace {

using namespace samizdat::store::testing;

struct AckRecord {
  std::int64_t id;
  std::uint64_t seed;  // the ciphertext is random_payload(kSize, seed)
};

constexpr std::size_t kSize = 200;
constexpr int kMaxAppendsPerChild = 200'000;  // bounds a child that is never killed

const MailboxId kMailbox = mailbox_of(0x5a);

SqliteStoreOptions options() {
  SqliteStoreOptions options;
  options.limits.max_queued_per_mailbox = 10'000'000;  // every round adds to the same mailbox
  return options;
}

// Runs in the child: append until killed, writing each acknowledgement to `fd` from the
// callback, i.e. at the moment a server would acknowledge the sender.
[[noreturn]] void child_main(const std::filesystem::path& file, int fd, std::uint64_t seed_base) {
  auto opened = SqliteStore::open(file, options());
  if (!opened.ok()) {
    std::fprintf(stderr, "child: %s\n", opened.error().describe().c_str());
    _exit(3);
  }
  auto store = std::move(opened).value();
  std::mutex mutex;
  std::condition_variable room;
  int in_flight = 0;
  for (int i = 0; i < kMaxAppendsPerChild; ++i) {
    {
      std::unique_lock lock(mutex);
      room.wait(lock, [&] { return in_flight < 256; });
      ++in_flight;
    }
    std::uint64_t seed = seed_base + static_cast<std::uint64_t>(i);
    store->mailboxes().append({envelope_to(kMailbox, random_payload(kSize, seed))}, [&, seed](auto result) {
      if (!result.ok()) {
        std::fprintf(stderr, "child: %s\n", result.error().describe().c_str());
        _exit(5);
      }
      AckRecord record{result->at(0), seed};
      if (::write(fd, &record, sizeof record) != sizeof record) _exit(4);
      std::lock_guard lock(mutex);
      --in_flight;
      room.notify_one();
    });
  }
  store->close();
  _exit(0);
}

// Reads whole records until EOF or `want` records (0: until EOF), within a deadline.
bool read_records(int fd, std::vector<AckRecord>& out, std::size_t want) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<std::uint8_t> partial;
  while (want == 0 || out.size() < want) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    std::uint8_t buffer[sizeof(AckRecord) * 64];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return want == 0;  // EOF
    partial.insert(partial.end(), buffer, buffer + n);
    while (partial.size() >= sizeof(AckRecord)) {
      AckRecord record;
      std::memcpy(&record, partial.data(), sizeof record);
      out.push_back(record);
      partial.erase(partial.begin(), partial.begin() + sizeof record);
    }
  }
  return true;
}

TEST(CrashSafetyTest, EveryAcknowledgedEnvelopeSurvivesSigkillOfTheWriterProcess) {
  TempDir dir;
  const auto file = dir.path() / "server.db";
  std::mt19937 rng(std::random_device{}());
  std::map<std::int64_t, std::uint64_t> acknowledged;  // over all rounds
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    // Round 0 kills before any acknowledgement (possibly while the schema is created).
    std::size_t kill_after = round == 0 ? 0 : std::uniform_int_distribution<std::size_t>(1, 4000)(rng);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      child_main(file, fds[1], static_cast<std::uint64_t>(round) * 1'000'000);
    }
    ::close(fds[1]);
    std::vector<AckRecord> records;
    bool in_time = kill_after == 0 || read_records(fds[0], records, kill_after);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    // Callbacks that fired between our last read and the kill were acknowledged too.
    EXPECT_TRUE(read_records(fds[0], records, 0));
    ::close(fds[0]);
    ASSERT_TRUE(in_time) << "the child did not acknowledge " << kill_after
                         << " appends within 30 s (child status " << status << ", got " << records.size()
                         << ")";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
    for (const auto& record : records) {
      EXPECT_TRUE(acknowledged.emplace(record.id, record.seed).second)
          << "id " << record.id << " handed out twice";
    }

    auto store = open_store(file, options());
    ASSERT_TRUE(store) << "round " << round;
    std::map<std::int64_t, Bytes> found;
    for (StoredEnvelopeId after = 0;;) {
      auto page = store->mailboxes().fetch(kMailbox, after, 1000);
      ASSERT_TRUE(page.ok()) << page.error().describe();
      if (page->empty()) break;
      for (auto& envelope : *page) found.emplace(envelope.id, std::move(envelope.ciphertext));
      after = found.rbegin()->first;
    }
    for (const auto& [id, seed] : acknowledged) {
      auto hit = found.find(id);
      ASSERT_NE(hit, found.end()) << "round " << round << ": acknowledged envelope " << id << " was lost";
      ASSERT_EQ(hit->second, random_payload(kSize, seed)) << "envelope " << id << " came back altered";
    }
    RecordProperty("round" + std::to_string(round) + "_acknowledged", static_cast<int>(records.size()));
  }
  EXPECT_GT(acknowledged.size(), 0u);
}

}  // namespace
}  // namespace samizdat::store
