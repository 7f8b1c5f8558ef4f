// The byte-level obfs handshake across endpoint configurations: a client whose shaping
// mode differs from the server's (same PSK, same server key) must never authenticate,
// whatever its salt happens to look like. The packets are exactly what dial() writes
// (ClientHandshake) and what the listener reads (ServerHandshake, wanted() bytes at a time).
#include "transport/obfs/obfs_handshake.hpp"

#include <gtest/gtest.h>

#include "crypto/secret.hpp"
#include "util/clock.hpp"

namespace samizdat::transport::obfs {
namespace {

// Enough attempts that a rule accepting 1 in 64 mismatched clients shows up every time:
// (63/64)^1000 < 2e-7 per mode pair.
constexpr int kAttempts = 1000;

Endpoint endpoint_with(const crypto::X25519KeyPair& server, const Psk& psk, std::string shaping) {
  Endpoint endpoint;
  endpoint.scheme = "obfs";
  endpoint.host = "127.0.0.1";
  endpoint.port = 9;
  endpoint.server_static = server.public_key;
  endpoint.psk = psk;
  endpoint.shaping = std::move(shaping);
  return endpoint;
}

// Feeds both client packets to the server as the listener does; true if it completes.
bool server_completes(const ObfsSecrets& server_secrets, const crypto::X25519KeyPair& server, const Psk& psk,
                      const ClientHandshake& client, std::int64_t now) {
  ServerHandshake server_side(server_secrets, server, psk, now);
  Bytes wire = to_bytes(client.first_packet());
  append(wire, client.second_packet());
  std::size_t at = 0;
  while (!server_side.done()) {
    auto want = server_side.wanted();
    if (want == 0 || at + want > wire.size()) return false;  // it would wait for more, then junk
    if (!server_side.feed(ByteView(wire).subspan(at, want)).ok()) return false;
    at += want;
  }
  return true;
}

struct ModePair {
  std::string client;
  std::string server;
};

class ObfsShapingMismatch : public ::testing::TestWithParam<ModePair> {};

TEST_P(ObfsShapingMismatch, AClientOfAnotherShapingModeNeverAuthenticates) {
  crypto::ensure_initialized();
  auto server = crypto::X25519KeyPair::generate();
  Psk psk;
  crypto::fill_random(psk);
  auto client_secrets = *derive_obfs_secrets(endpoint_with(server, psk, GetParam().client));
  auto server_secrets = *derive_obfs_secrets(endpoint_with(server, psk, GetParam().server));
  auto now = unix_millis();
  int accepted = 0;
  for (int i = 0; i < kAttempts; ++i) {
    auto client = ClientHandshake::start(client_secrets, server.public_key, psk, nullptr, now);
    ASSERT_TRUE(client.ok());
    accepted += server_completes(server_secrets, server, psk, *client, now);
  }
  EXPECT_EQ(accepted, 0) << "client '" << GetParam().client << "' vs server '" << GetParam().server << "'";
}

TEST(ObfsShapingMismatch, TheSameModeStillAuthenticatesEveryTime) {
  crypto::ensure_initialized();
  auto server = crypto::X25519KeyPair::generate();
  Psk psk;
  crypto::fill_random(psk);
  // "" is the default mode by name: the same endpoint as "prefix".
  auto client_secrets = *derive_obfs_secrets(endpoint_with(server, psk, ""));
  auto server_secrets = *derive_obfs_secrets(endpoint_with(server, psk, "prefix"));
  auto now = unix_millis();
  for (int i = 0; i < 100; ++i) {
    auto client = ClientHandshake::start(client_secrets, server.public_key, psk, nullptr, now);
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(server_completes(server_secrets, server, psk, *client, now)) << "handshake " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPairOfModes, ObfsShapingMismatch,
                         ::testing::Values(ModePair{"none", "prefix"}, ModePair{"prefix", "none"},
                                           ModePair{"none", "popcount"}, ModePair{"popcount", "none"},
                                           ModePair{"prefix", "popcount"}, ModePair{"popcount", "prefix"}),
                         [](const auto& info) { return info.param.client + "_to_" + info.param.server; });

}  // namespace
}  // namespace samizdat::transport::obfs
