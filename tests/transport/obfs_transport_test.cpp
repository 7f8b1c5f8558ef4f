// The obfs transport over real sockets on 127.0.0.1: handshakes in every shaping mode,
// frames, and what a client with the wrong secret gets.
#include "transport/obfs/obfs_transport.hpp"

#include <gtest/gtest.h>

#include "echo_server.hpp"
#include "transport/obfs/obfs_secrets.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::transport {
namespace {

using namespace std::chrono_literals;

class ObfsShapingModes : public ::testing::TestWithParam<std::string> {};

TEST_P(ObfsShapingModes, RegisteredDeviceAndAnonymousClientsBothExchangeFrames) {
  EchoServer server({.scheme = "obfs", .shaping = GetParam()});
  auto device = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  std::vector<Bytes> payloads = {to_bytes("hello over obfs"), Bytes{},
                                 crypto::random_bytes(wire::kMaxFramePayload)};
  auto ik = echo_round_trip(server.endpoint(), device, payloads);
  ASSERT_TRUE(ik.ok()) << ik.error().describe();
  auto nk = echo_round_trip(server.endpoint(), nullptr, payloads);
  ASSERT_TRUE(nk.ok()) << nk.error().describe();
  auto peers = server.peers();
  ASSERT_EQ(peers.size(), 2u);
  ASSERT_TRUE(peers[0].has_value());
  EXPECT_EQ(*peers[0], device->public_key);  // IKpsk2: the server learns the device key
  EXPECT_FALSE(peers[1].has_value());        // NKpsk2: anonymous
  EXPECT_EQ(server.stats().accepted.load(), 2u);
}

// Handshake lengths vary per connection; 200 handshakes reach the longest records the
// endpoint's distributions produce (a popcount-shaped first packet is the largest).
TEST_P(ObfsShapingModes, EveryHandshakeLengthTheEndpointProducesCompletes) {
  EchoServer server({.scheme = "obfs", .shaping = GetParam()});
  for (int i = 0; i < 200; ++i) {
    auto status = echo_round_trip(server.endpoint(), nullptr, {to_bytes("ping")});
    ASSERT_TRUE(status.ok()) << "handshake " << i << ": " << status.error().describe();
  }
  EXPECT_EQ(server.stats().rejected.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(EveryMode, ObfsShapingModes, ::testing::Values("", "none", "prefix", "popcount"));

TEST(ObfsTransport, TheUriCarriesEverythingAClientNeeds) {
  EchoServer server({.scheme = "obfs", .shaping = "popcount"});
  auto uri = server.endpoint().to_uri_with_keys();
  EXPECT_EQ(uri.rfind("obfs://127.0.0.1:", 0), 0u) << uri;
  auto parsed = parse_endpoint_uri(uri);
  ASSERT_TRUE(parsed.ok());
  auto status = echo_round_trip(*parsed, nullptr, {to_bytes("via the uri")});
  EXPECT_TRUE(status.ok()) << status.error().describe();
}

TEST(ObfsTransport, AWrongPskServerKeyOrShapingModeGetsNoAnswerAndFails) {
  EchoServer server({.scheme = "obfs", .handshake_timeout = 1500ms});
  std::vector<Endpoint> wrong(3, server.endpoint());
  wrong[0].psk[0] ^= 1;
  wrong[1].server_static[5] ^= 1;
  wrong[2].shaping = "none";
  for (const auto& endpoint : wrong) {
    auto started = std::chrono::steady_clock::now();
    auto status = echo_round_trip(endpoint, nullptr, {to_bytes("x")}, 5s);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, Errc::network) << status.error().describe();
    // The server kept reading until its junk deadline ([0.5, 1] x 1.5 s) and then reset.
    EXPECT_GE(std::chrono::steady_clock::now() - started, 700ms);
  }
  EXPECT_EQ(server.stats().accepted.load(), 0u);
  EXPECT_EQ(server.stats().rejected.load(), 3u);
}

TEST(ObfsTransport, AnUnknownShapingModeIsAClearError) {
  Endpoint endpoint;
  endpoint.scheme = "obfs";
  endpoint.host = "127.0.0.1";
  endpoint.shaping = "rot13";
  auto status = echo_round_trip(endpoint, nullptr, {});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::invalid_argument);
  EXPECT_NE(status.error().message.find("known: none, prefix, popcount"), std::string::npos);
}

}  // namespace
}  // namespace samizdat::transport
