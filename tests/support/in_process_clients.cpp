#include "support/in_process_clients.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

namespace samizdat::testing {

using namespace std::chrono_literals;

client::ClientOptions in_process_options(const std::filesystem::path& home, std::size_t one_time_prekeys) {
  client::ClientOptions options;
  options.home = home;
  options.timeout = 10s;
  options.durability = client::Durability::normal;
  options.one_time_prekeys = one_time_prekeys;
  return options;
}

std::unique_ptr<client::Client> make_client(asio::io_context& io, const std::filesystem::path& home,
                                            const std::string& bootstrap, std::size_t one_time_prekeys) {
  auto client = run_on(
      io, client::Client::init(io.get_executor(), in_process_options(home, one_time_prekeys), bootstrap));
  EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error().describe());
  return client.ok() ? std::move(*client) : nullptr;
}

ClientPair make_alice_and_bob(asio::io_context& io, const std::filesystem::path& root,
                              const std::string& bootstrap, const ClientOptionsFor& options,
                              const std::function<std::string()>& diagnostics) {
  auto a = run_on(io, client::Client::init(io.get_executor(), options(root / "alice"), bootstrap));
  auto b = run_on(io, client::Client::init(io.get_executor(), options(root / "bob"), bootstrap));
  EXPECT_TRUE(a.ok() && b.ok()) << (a.ok() ? "" : a.error().describe())
                                << (b.ok() ? "" : b.error().describe()) << (diagnostics ? diagnostics() : "");
  if (!a.ok() || !b.ok()) return {};
  ClientPair pair{std::move(*a), std::move(*b)};
  auto added = pair.alice->add_contact("bob", pair.bob->invite().to_string());
  auto added_back = pair.bob->add_contact("alice", pair.alice->invite().to_string());
  EXPECT_TRUE(added.ok() && added_back.ok()) << (added.ok() ? "" : added.error().describe())
                                             << (added_back.ok() ? "" : added_back.error().describe());
  if (!added.ok() || !added_back.ok()) return {};
  return pair;
}

std::vector<client::MessageRecord> incoming(client::Client& c, const std::string& contact) {
  std::vector<client::MessageRecord> out;
  auto history = c.history(contact, 100000);
  EXPECT_TRUE(history.ok());
  if (!history.ok()) return out;
  for (auto& m : *history) {
    if (m.direction == client::Direction::incoming) out.push_back(std::move(m));
  }
  return out;
}

void flush_all(asio::io_context& io, client::Client& c, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    auto flushed = run_on(io, c.flush_outbox());
    if (flushed.ok() && flushed->pending == 0) return;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "outbox never drained";
}

void receive_all(asio::io_context& io, client::Client& c, const std::string& contact, std::size_t count,
                 int rounds, std::chrono::milliseconds pause) {
  for (int round = 0; round < rounds && incoming(c, contact).size() < count; ++round) {
    auto synced = run_on(io, c.sync(200ms));
    if (!synced.ok()) std::this_thread::sleep_for(pause);
  }
}

double send_until_received(asio::io_context& io, client::Client& from, client::Client& to,
                           const std::string& text, std::chrono::steady_clock::time_point start,
                           std::chrono::milliseconds limit) {
  EXPECT_TRUE(from.queue_text("bob", text).ok());
  auto deadline = start + limit;
  bool sent = false;
  while (!sent && std::chrono::steady_clock::now() < deadline) {
    auto flushed = run_on(io, from.flush_outbox());
    sent = flushed.ok() && flushed->pending == 0 && flushed->sent > 0;
    if (!flushed.ok()) std::this_thread::sleep_for(50ms);
  }
  while (sent && std::chrono::steady_clock::now() < deadline) {
    auto got = incoming(to, "alice");
    if (std::any_of(got.begin(), got.end(), [&](const auto& m) { return m.body == text; })) {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    auto synced = run_on(io, to.sync(100ms));
    if (!synced.ok()) std::this_thread::sleep_for(50ms);
  }
  return -1;
}

void TwoClientTest::SetUp() {
  server_ = std::make_unique<ServerProcess>(tmp_ / "server");
  ASSERT_NO_FATAL_FAILURE(server_->start());
  auto pair = make_alice_and_bob(io_, tmp_.path(), server_->bootstrap());
  alice_ = std::move(pair.alice);
  bob_ = std::move(pair.bob);
  ASSERT_TRUE(alice_ && bob_);
}

void TwoClientTest::TearDown() {
  if (HasFailure() && server_) std::cerr << "samizdatd log:\n" << server_->log();
}

}  // namespace samizdat::testing
