// The out-of-band map refresh races its channels: a mirror or DNS name the censor drops
// silently does not hold up one that works, the whole refresh has one deadline, and a
// client whose only knowledge is a bootstrap string (no map yet) fetches a map through
// the mirrors and DNS names that string carries. The working mirror is a real nginx; the
// silent ones are a TCP listener that never accepts (the TLS handshake is never answered)
// and a UDP socket that never replies.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <filesystem>
#include <fstream>

#include "../reach/map_test_support.hpp"
#include "../reach/nginx_process.hpp"
#include "client/map_keeper.hpp"
#include "reach/bootstrap.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

class MapRefreshRace : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::ensure_initialized();
    home_ = fs::temp_directory_path() / ("sz-refresh-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    auto store = AccountStore::create({home_, std::nullopt, Durability::normal});
    ASSERT_TRUE(store.ok()) << store.error().describe();
    store_ = std::move(*store);
    // A silent mirror: the kernel completes the TCP handshake (backlog) but nothing reads.
    silent_tcp_.open(asio::ip::tcp::v4());
    silent_tcp_.bind({asio::ip::make_address("127.0.0.1"), 0});
    silent_tcp_.listen(8);
    // A silent resolver.
    silent_udp_.open(asio::ip::udp::v4());
    silent_udp_.bind({asio::ip::make_address("127.0.0.1"), 0});
  }
  void TearDown() override { fs::remove_all(home_); }

  reach::MapMirror silent_mirror() const {
    return {"https://127.0.0.1:" + std::to_string(silent_tcp_.local_endpoint().port()) + "/map.bin",
            "front.example", "hidden.example"};
  }

  // A validly signed map (valid now) on the nginx mirror, Host hidden.example.
  Bytes signed_map(std::uint64_t version) {
    auto now = now_seconds();
    if (!operator_) operator_ = std::make_unique<reach::testing::Operator>(now - 3600, now + 30 * 86400);
    reach::NetworkMap map;
    map.version = version;
    map.issued_at = now - 60;
    map.expires_at = now + 7 * 86400;
    map.endpoints.push_back(reach::testing::sample_endpoint("127.9.0.1", 4433));
    return operator_->sign(map);
  }
  void serve(reach::testing::Nginx& nginx, const Bytes& map) {
    fs::create_directories(nginx.www() / "samizdat");
    std::ofstream(nginx.www() / "samizdat" / "map.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(map.data()), static_cast<std::streamsize>(map.size()));
  }

  // Runs one refresh to completion (io_context drained: nothing left running after it).
  struct Outcome {
    Result<bool> result = false;
    std::chrono::milliseconds refresh{0};  // until refresh_out_of_band returned
    std::chrono::milliseconds drained{0};  // until the io_context had no work left
  };
  Outcome refresh(MapKeeper& keeper, std::chrono::milliseconds timeout) {
    asio::io_context io;
    Outcome outcome;
    auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto result = co_await keeper.refresh_out_of_band(io.get_executor(), *store_, timeout);
          outcome.result = std::move(result);
          outcome.refresh =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        },
        samizdat::log_escape("map_refresh_race_test: a spawned coroutine"));
    io.run();
    outcome.drained =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return outcome;
  }

  fs::path home_;
  std::unique_ptr<AccountStore> store_;
  std::unique_ptr<reach::testing::Operator> operator_;
  asio::io_context sockets_;
  asio::ip::tcp::acceptor silent_tcp_{sockets_};
  asio::ip::udp::socket silent_udp_{sockets_};
};

TEST_F(MapRefreshRace, ASilentMirrorDoesNotHoldUpAWorkingOneForAClientWithOnlyTheBootstrap) {
  reach::testing::Nginx nginx("hidden.example");
  auto map = signed_map(1);
  serve(nginx, map);
  // What a brand-new client has: the bootstrap string (version 3) in its account, no map.
  reach::Bootstrap bootstrap;
  bootstrap.operator_key = operator_->root.public_key;
  bootstrap.map_root = operator_->root.public_key;
  bootstrap.endpoints.push_back(reach::testing::sample_endpoint("127.1.0.1", 4433).endpoint);
  bootstrap.mirrors = {silent_mirror(),
                       {"https://127.0.0.1:" + std::to_string(nginx.port()) + "/samizdat/map.bin",
                        "front.example", "hidden.example"}};
  auto text = reach::encode_bootstrap(bootstrap);
  ASSERT_TRUE(text.ok()) << text.error().describe();
  ASSERT_TRUE(store_->put(settings::bootstrap, *text).ok());

  MapKeeper keeper;
  ASSERT_TRUE(keeper.load(*store_, *bootstrap.map_root).ok());
  ASSERT_EQ(keeper.current(), nullptr);
  reach::testing::LogCapture log;
  // The silent mirror comes first: tried in turn, it would cost the whole 10 s.
  auto outcome = refresh(keeper, 10s);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.error().describe();
  EXPECT_TRUE(*outcome.result) << log.text();
  ASSERT_NE(keeper.current(), nullptr);
  EXPECT_EQ(keeper.current()->map.version, 1u);
  EXPECT_EQ(keeper.endpoints().size(), 1u);
  EXPECT_NE(log.text().find("network map v1 accepted from mirror https://127.0.0.1:" +
                            std::to_string(nginx.port())),
            std::string::npos)
      << log.text();
  // Won by the working mirror, and the silent one was cancelled rather than waited for.
  EXPECT_LT(outcome.refresh, 5s) << log.text();
  EXPECT_LT(outcome.drained, 5s) << log.text();
  // Stored: a restart keeps it.
  MapKeeper again;
  ASSERT_TRUE(again.load(*store_, *bootstrap.map_root).ok());
  ASSERT_NE(again.current(), nullptr);
}

TEST_F(MapRefreshRace, EverySilentChannelCostsOneDeadlineNotOneEach) {
  MapKeeper keeper;
  ASSERT_TRUE(keeper.load(*store_, crypto::Ed25519Public{}).ok());
  // Three silent mirrors (ports of the same never-accepting listener, distinct paths) and
  // two silent DNS names: five channels that each would run into the timeout.
  auto base = silent_mirror();
  std::vector<reach::MapMirror> mirrors;
  for (const char* path : {"/a", "/b", "/c"})
    mirrors.push_back({base.url + path, base.front_sni, base.front_host});
  keeper.set_bootstrap_channels(mirrors, {"map.one.test", "map.two.test"});
  keeper.set_dns_resolver(silent_udp_.local_endpoint());
  reach::testing::LogCapture log;
  auto outcome = refresh(keeper, 2s);
  ASSERT_TRUE(outcome.result.ok());
  EXPECT_FALSE(*outcome.result);
  EXPECT_EQ(keeper.current(), nullptr);
  // One 2 s deadline for all five (in turn it would be 10 s).
  EXPECT_GE(outcome.refresh, 1900ms);
  EXPECT_LT(outcome.drained, 6s) << log.text();
  EXPECT_NE(log.text().find("no map channel gave a newer map within 2000 ms"), std::string::npos)
      << log.text();
}

TEST_F(MapRefreshRace, ATakenChannelWinsEvenWhenAnotherServesAnOlderMap) {
  reach::testing::Nginx old_mirror("hidden.example");
  reach::testing::Nginx new_mirror("hidden.example");
  auto v1 = signed_map(1);
  auto v2 = signed_map(2);
  serve(old_mirror, v1);
  serve(new_mirror, v2);
  MapKeeper keeper;
  ASSERT_TRUE(keeper.load(*store_, operator_->root.public_key).ok());
  ASSERT_TRUE(keeper.offer(*store_, v1, "test").ok());
  auto url = [](const reach::testing::Nginx& n) {
    return "https://127.0.0.1:" + std::to_string(n.port()) + "/samizdat/map.bin";
  };
  keeper.set_bootstrap_channels(
      {{url(old_mirror), "", "hidden.example"}, silent_mirror(), {url(new_mirror), "", "hidden.example"}},
      {});
  reach::testing::LogCapture log;
  auto outcome = refresh(keeper, 10s);
  ASSERT_TRUE(outcome.result.ok());
  EXPECT_TRUE(*outcome.result) << log.text();
  ASSERT_NE(keeper.current(), nullptr);
  EXPECT_EQ(keeper.current()->map.version, 2u);
  EXPECT_LT(outcome.drained, 5s) << log.text();
}

}  // namespace
}  // namespace samizdat::client
