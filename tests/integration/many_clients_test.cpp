// 1,000 clients (the client library in-process, all on one io_context) against one real
// samizdatd: each registers, starts a session with a partner through prekeys and sends
// 10 messages; every message arrives exactly once. SAMIZDAT_IT_CLIENTS overrides the
// count (e.g. for a quick local run).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <set>

#include "integration_support.hpp"
#include "util/coro.hpp"

namespace samizdat::integration {
namespace {

// Runs job(i) for i in [0, count) with at most `parallel` in flight, on `io`.
void for_each_bounded(asio::io_context& io, std::size_t count, std::size_t parallel,
                      const std::function<asio::awaitable<void>(std::size_t)>& job) {
  auto next = std::make_shared<std::size_t>(0);
  auto running = std::make_shared<std::size_t>(std::min(parallel, count));
  for (std::size_t w = 0; w < std::min(parallel, count); ++w) {
    asio::co_spawn(
        io,
        [next, running, count, &job, &io]() -> asio::awaitable<void> {
          while (*next < count) {
            std::size_t i = (*next)++;
            co_await job(i);
          }
          // Open connections keep the io_context busy: stop once every worker is done.
          if (--*running == 0) io.stop();
        },
        samizdat::log_escape("many_clients_test: a spawned coroutine"));
  }
  io.restart();
  io.run();
}

TEST(ManyClientsTest, ThousandClientsTenMessagesEachAllArriveExactlyOnce) {
  std::size_t clients = 1000;
  if (const char* override_count = std::getenv("SAMIZDAT_IT_CLIENTS"))
    clients = std::strtoul(override_count, nullptr, 10);
  clients &= ~std::size_t{1};  // pairs
  constexpr int kMessages = 10;
  // Each client holds two connections and its database files.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);

  TempDir tmp;
  ServerProcess server(tmp / "server");
  server.start();
  asio::io_context io;
  std::vector<std::unique_ptr<client::Client>> all(clients);
  std::atomic<int> failures{0};

  for_each_bounded(io, clients, 32, [&](std::size_t i) -> asio::awaitable<void> {
    // Named arguments only: GCC 12 may destroy temporaries in a co_await expression twice.
    asio::any_io_executor executor = io.get_executor();
    client::ClientOptions options =
        in_process_options(tmp / ("c" + std::to_string(i)), /*one_time_prekeys=*/2);
    std::string bootstrap = server.bootstrap();
    auto c = co_await client::Client::init(executor, std::move(options), bootstrap);
    if (!c.ok()) {
      ADD_FAILURE() << "client " << i << ": " << c.error().describe();
      ++failures;
      co_return;
    }
    all[i] = std::move(*c);
  });
  ASSERT_EQ(failures, 0) << server.log();

  auto partner = [](std::size_t i) { return i ^ 1; };
  for (std::size_t i = 0; i < clients; ++i) {
    ASSERT_TRUE(all[i]->add_contact("partner", all[partner(i)]->invite().to_string()).ok());
    for (int m = 0; m < kMessages; ++m) {
      ASSERT_TRUE(all[i]->queue_text("partner", "from " + std::to_string(i) + " #" + std::to_string(m)).ok());
    }
  }

  // Everyone sends at once; a pair's two first messages may cross (both sides start a session).
  for_each_bounded(io, clients, 64, [&](std::size_t i) -> asio::awaitable<void> {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto flushed = co_await all[i]->flush_outbox();
      if (flushed.ok() && flushed->pending == 0) co_return;
    }
    ADD_FAILURE() << "client " << i << " could not empty its outbox";
  });

  for_each_bounded(io, clients, 64, [&](std::size_t i) -> asio::awaitable<void> {
    for (int round = 0; round < 20; ++round) {
      auto history = all[i]->history("partner", 1000);
      std::size_t got = 0;
      if (history.ok()) {
        for (const auto& m : *history) got += m.direction == client::Direction::incoming;
      }
      if (got >= kMessages) co_return;
      std::chrono::milliseconds wait{200};
      auto synced = co_await all[i]->sync(wait);
      if (!synced.ok()) ADD_FAILURE() << "client " << i << ": " << synced.error().describe();
    }
  });

  std::size_t delivered = 0;
  for (std::size_t i = 0; i < clients; ++i) {
    std::multiset<std::string> texts;
    for (const auto& m : incoming(*all[i], "partner")) texts.insert(m.body);
    delivered += texts.size();
    for (int m = 0; m < kMessages; ++m) {
      EXPECT_EQ(texts.count("from " + std::to_string(partner(i)) + " #" + std::to_string(m)), 1u)
          << "client " << i << " message " << m;
    }
    if (HasFailure()) break;
  }
  EXPECT_EQ(delivered, clients * kMessages);
  for (auto& c : all) c.reset();
  server.stop();
}

}  // namespace
}  // namespace samizdat::integration
