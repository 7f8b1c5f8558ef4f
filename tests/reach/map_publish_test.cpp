// The operator's path end to end with the real binaries: `samizdatd map` creates the root,
// certifies a signing key, edits and publishes the map; then each channel carries it to a
// client that pins the root: DNS TXT from dnsmasq, HTTPS from a fronted nginx, and in-band
// from a running samizdatd (which also picks up a re-publish without a restart).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../server/server_test_support.hpp"
#include "dnsmasq_process.hpp"
#include "map_test_support.hpp"
#include "nginx_process.hpp"
#include "reach/channels/https_mirror_map.hpp"
#include "reach/channels/inband_map.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"

namespace samizdat::reach {
namespace {

using samizdat::testing::Client;
using samizdat::testing::read_text;
using samizdat::testing::run_program;
using samizdat::testing::run_server;
using samizdat::testing::samizdatd_path;
using samizdat::testing::ServerDir;
namespace fs = std::filesystem;

std::uint64_t now() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

class MapPublish : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ServerDir::create("map-publish");
    base_ = server_.dir.parent_path();
  }
  // Kept after a failure (its logs explain it); gone otherwise, so runs leave no temp dirs.
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(base_);
  }
  void map(std::vector<std::string> args) {
    args.insert(args.begin(), {samizdatd_path(), "map"});
    std::string output;
    int code = run_program(args, output, base_ / "map.log");
    ASSERT_EQ(code, 0) << output << read_text(base_ / "map.log");
  }
  crypto::Ed25519Public root() {
    auto text = read_text(base_ / "root" / "root.pub");
    auto key = hex_decode(text.substr(0, 64));
    crypto::Ed25519Public out{};
    std::copy(key->begin(), key->end(), out.begin());
    return out;
  }
  void publish_first_map(std::uint16_t mirror_port) {
    auto dir = server_.dir.string();
    map({"init-root", "--root-dir", (base_ / "root").string()});
    map({"certify-signing-key", "--dir", dir, "--root-dir", (base_ / "root").string(), "--valid-days", "30"});
    map({"add-endpoint", "--dir", dir, "tcp://127.0.0.9:4433", "--weight", "7", "--region", "ru"});
    map({"add-endpoint", "--dir", dir, server_.endpoint.to_uri()});
    map({"add-mirror", "--dir", dir, "https://127.0.0.1:" + std::to_string(mirror_port) + "/samizdat/map.bin",
         "--front-sni", "cdn.example", "--front-host", "hidden.example"});
    map({"add-dns-name", "--dir", dir, "map.samizdat.test"});
    map({"publish", "--dir", dir, "--out", (base_ / "out").string(), "--valid-days", "7"});
  }
  ServerDir server_;
  fs::path base_;
};

TEST_F(MapPublish, DnsTxtRenderingServedByDnsmasqIsAcceptedWithThePinnedRoot) {
  publish_first_map(443);
  testing::Dnsmasq dns(read_text(base_ / "out" / "dnsmasq-txt.conf"));
  auto fetched = dns.fetch("map.samizdat.test");
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  auto accepted = accept_map(nullptr, *fetched, root(), now());
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->map.version, 1u);
  ASSERT_EQ(accepted->map.endpoints.size(), 2u);
  EXPECT_EQ(accepted->map.endpoints[0].weight, 7u);
  // The endpoint added without keys got this server's keys: a client can dial it.
  EXPECT_EQ(accepted->map.endpoints[1].endpoint.server_static, server_.endpoint.server_static);
  EXPECT_EQ(accepted->map.endpoints[1].endpoint.psk, server_.endpoint.psk);
}

TEST_F(MapPublish, MapBinServedByAFrontedNginxIsAccepted) {
  testing::Nginx nginx("hidden.example");
  publish_first_map(nginx.port());
  fs::create_directories(nginx.www() / "samizdat");
  fs::copy_file(base_ / "out" / "map.bin", nginx.www() / "samizdat" / "map.bin");
  auto published = parse_signed_map(as_bytes(read_text(base_ / "out" / "map.bin")));
  ASSERT_TRUE(published.ok());
  auto fetched = fetch_map_from_mirror_blocking(published->map.mirrors.at(0), MirrorFetchOptions{});
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  auto accepted = accept_map(nullptr, *fetched, root(), now());
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->map.mirrors.at(0).front_host, "hidden.example");
}

TEST_F(MapPublish, ARunningServerOffersItsMapInBandAndPicksUpARepublish) {
  publish_first_map(443);
  auto process = run_server(server_.dir);
  // The bootstrap string of a server with a map root pins that root (version 2).
  auto bootstrap_line = [&] {
    for (int i = 0; i < 100; ++i) {
      auto log = process->log();
      auto at = log.find("bootstrap: ");
      if (at != std::string::npos) return log.substr(at + 11, log.find('\n', at) - at - 11);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::string();
  }();
  auto bootstrap = parse_bootstrap(bootstrap_line);
  ASSERT_TRUE(bootstrap.ok()) << bootstrap_line;
  ASSERT_TRUE(bootstrap->map_root.has_value());
  EXPECT_EQ(map_root_key(*bootstrap), root());

  auto client = Client::connect(server_.endpoint);
  wire::ClientMessage ping;
  ping.mutable_ping()->set_nonce(1);
  EXPECT_TRUE(client->request(ping).has_pong());
  auto offer = client->next_push(std::chrono::seconds(5));
  ASSERT_TRUE(offer.has_value());
  ASSERT_TRUE(offer->has_map_offer());
  EXPECT_EQ(offer->map_offer().version(), 1u);
  EXPECT_TRUE(map_offer_is_newer(offer->map_offer(), nullptr));

  wire::ClientMessage get;
  get.mutable_get_map();
  auto reply = client->request(get);
  ASSERT_TRUE(reply.has_map_reply()) << reply.DebugString();
  auto bytes = map_bytes_from_reply(reply.map_reply());
  ASSERT_TRUE(bytes.ok());
  auto v1 = accept_map(nullptr, *bytes, map_root_key(*bootstrap), now());
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(std::string(as_chars(v1->digest)), offer->map_offer().digest());

  // Re-publish while running: a new session is offered v2 (the file is re-read on change).
  map({"add-endpoint", "--dir", server_.dir.string(), "tcp://127.0.0.10:4433"});
  map({"publish", "--dir", server_.dir.string(), "--out", (base_ / "out").string()});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto second = Client::connect(server_.endpoint);
  EXPECT_TRUE(second->request(ping).has_pong());
  auto offer2 = second->next_push(std::chrono::seconds(5));
  ASSERT_TRUE(offer2.has_value() && offer2->has_map_offer());
  EXPECT_EQ(offer2->map_offer().version(), 2u);
  EXPECT_TRUE(map_offer_is_newer(offer2->map_offer(), &*v1));
  auto reply2 = second->request(get);
  auto v2 = accept_map(&*v1, *map_bytes_from_reply(reply2.map_reply()), map_root_key(*bootstrap), now());
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(v2->map.endpoints.size(), 3u);
}

TEST_F(MapPublish, AServerWithoutAMapNeverOffersAndAnswersGetMapWithNotFound) {
  auto process = run_server(server_.dir);
  auto client = Client::connect(server_.endpoint);
  wire::ClientMessage ping;
  ping.mutable_ping()->set_nonce(1);
  EXPECT_TRUE(client->request(ping).has_pong());
  EXPECT_FALSE(client->next_push(std::chrono::milliseconds(300)).has_value());
  wire::ClientMessage get;
  get.mutable_get_map();
  auto reply = client->request(get);
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), wire::ERROR_NOT_FOUND);
}

TEST_F(MapPublish, PublishWithoutACertifiedSigningKeyExplainsWhatToDo) {
  std::string output;
  int code = run_program(
      {samizdatd_path(), "map", "add-endpoint", "--dir", server_.dir.string(), "tcp://127.0.0.9:1"}, output,
      base_ / "a.log");
  ASSERT_EQ(code, 0);
  code = run_program(
      {samizdatd_path(), "map", "publish", "--dir", server_.dir.string(), "--out", (base_ / "out").string()},
      output, base_ / "p.log");
  EXPECT_NE(code, 0);
  EXPECT_THAT(read_text(base_ / "p.log") + output, ::testing::HasSubstr("certify-signing-key"));
}

}  // namespace
}  // namespace samizdat::reach
