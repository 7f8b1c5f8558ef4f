// The client library in-process against a real samizdatd: clients on one io_context, driven
// step by step (run_on), and the two-client fixture most end-to-end tests start from: Alice
// and Bob, each in the other's contacts.
#pragma once

#include <gtest/gtest.h>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "util/coro.hpp"

namespace samizdat::testing {

// Runs one awaitable to completion on `io` (which must not be running elsewhere).
template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await std::move(task));
        io.stop();  // open connections keep the io_context busy; the next run_on resumes them
      },
      samizdat::log_escape("run_on: a spawned coroutine"));
  io.restart();
  io.run();
  return std::move(*out);
}

// Options for many accounts on one disk: crash-safe (WAL) but without an fsync per commit.
client::ClientOptions in_process_options(const std::filesystem::path& home,
                                         std::size_t one_time_prekeys = 20);

// init on a fresh home; fails the test (and returns null) if it does not work.
std::unique_ptr<client::Client> make_client(asio::io_context& io, const std::filesystem::path& home,
                                            const std::string& bootstrap, std::size_t one_time_prekeys = 20);

struct ClientPair {
  std::unique_ptr<client::Client> alice, bob;
};
using ClientOptionsFor = std::function<client::ClientOptions(const std::filesystem::path& home)>;
// Alice (root/alice) and Bob (root/bob), each in the other's contacts as "alice" and "bob".
// Fails the test, and leaves both null, if that does not work; `diagnostics` is shown then.
ClientPair make_alice_and_bob(
    asio::io_context& io, const std::filesystem::path& root, const std::string& bootstrap,
    const ClientOptionsFor& options = [](const auto& home) { return in_process_options(home); },
    const std::function<std::string()>& diagnostics = {});

// Incoming messages stored for `contact`, oldest first.
std::vector<client::MessageRecord> incoming(client::Client& c, const std::string& contact);

// Flushes until the outbox is empty (at most `rounds`, 50 ms apart), tolerating a server
// that is away; a test failure otherwise.
void flush_all(asio::io_context& io, client::Client& c, int rounds = 200);
// Syncs until `count` messages from `contact` are stored (at most `rounds` syncs of 200 ms;
// `pause` after a failed one).
void receive_all(asio::io_context& io, client::Client& c, const std::string& contact, std::size_t count,
                 int rounds = 100, std::chrono::milliseconds pause = std::chrono::milliseconds(100));

// What chat does anyway: `from` queues `text` to "bob" and flushes, `to` keeps syncing.
// Ms from `start` until `to` has the message from "alice", or -1 after `limit`.
double send_until_received(asio::io_context& io, client::Client& from, client::Client& to,
                           const std::string& text, std::chrono::steady_clock::time_point start,
                           std::chrono::milliseconds limit = std::chrono::seconds(60));

// A samizdatd on loopback and Alice and Bob in-process on io_, each in the other's contacts.
class TwoClientTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // The server's log, when the test failed.
  void TearDown() override;

  TempDir tmp_;
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::Client> alice_;
  std::unique_ptr<client::Client> bob_;
};

}  // namespace samizdat::testing
