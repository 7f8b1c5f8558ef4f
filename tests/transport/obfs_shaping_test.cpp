// What a passive observer sees of obfs handshakes: the GFW's fully-encrypted exemptions
// on the client's first packet of 1,000 handshakes per shaping mode, and no fixed byte
// or fixed length anywhere in the first 64 bytes of either side's first packet.
// The packets are exactly what dial() writes (ClientHandshake is its byte layer) and
// what the listener answers (ServerHandshake).
#include "transport/obfs/obfs_shaping.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

#include "crypto/secret.hpp"
#include "fully_encrypted_rules.hpp"
#include "transport/obfs/obfs_handshake.hpp"
#include "util/clock.hpp"

namespace samizdat::transport::obfs {
namespace {

constexpr int kHandshakes = 1000;

struct Sample {
  Bytes first;
  Bytes second;
  Bytes reply;
};

struct Fixture {
  explicit Fixture(std::string shaping) {
    crypto::ensure_initialized();
    endpoint.scheme = "obfs";
    endpoint.host = "127.0.0.1";
    endpoint.port = 9;
    endpoint.shaping = std::move(shaping);
    endpoint.server_static = server.public_key;
    crypto::fill_random(endpoint.psk);
    secrets = *derive_obfs_secrets(endpoint);
  }
  // One full handshake through both byte layers.
  Sample handshake() {
    auto now = unix_millis();
    auto client = ClientHandshake::start(secrets, endpoint.server_static, endpoint.psk, nullptr, now);
    EXPECT_TRUE(client.ok());
    ServerHandshake server_side(secrets, server, endpoint.psk, now);
    Bytes wire = to_bytes(client->first_packet());
    append(wire, client->second_packet());
    std::size_t at = 0;
    while (!server_side.done()) {
      auto want = server_side.wanted();
      EXPECT_LE(at + want, wire.size());
      auto fed = server_side.feed(ByteView(wire).subspan(at, want));
      EXPECT_TRUE(fed.ok()) << fed.error().describe();
      if (!fed.ok()) break;
      at += want;
    }
    EXPECT_EQ(at, wire.size());
    return {to_bytes(client->first_packet()), to_bytes(client->second_packet()),
            to_bytes(server_side.reply())};
  }
  // A client's first packet alone.
  Bytes first_packet() {
    auto client =
        ClientHandshake::start(secrets, endpoint.server_static, endpoint.psk, nullptr, unix_millis());
    EXPECT_TRUE(client.ok());
    return to_bytes(client->first_packet());
  }
  // The salt length this endpoint's server reads at the start of `first`: what it has
  // consumed when it first asks for the 2-byte masked record length; nullopt if it
  // rejects the salt.
  std::optional<std::size_t> salt_length_read(ByteView first) {
    ServerHandshake server_side(secrets, server, endpoint.psk, unix_millis());
    while (server_side.wanted() != 2) {
      auto want = server_side.wanted();
      if (server_side.consumed() + want > first.size()) return std::nullopt;
      if (!server_side.feed(first.subspan(server_side.consumed(), want)).ok()) return std::nullopt;
    }
    return server_side.consumed();
  }
  crypto::X25519KeyPair server = crypto::X25519KeyPair::generate();
  Endpoint endpoint;
  ObfsSecrets secrets;
};

struct Exemptions {
  int exempt = 0, ex1 = 0, ex2 = 0, ex4 = 0;
  double max_popcount = 0;
  std::size_t max_first_packet = 0;
};

Exemptions judge(const std::string& shaping) {
  Fixture fixture(shaping);
  Exemptions counts;
  for (int i = 0; i < kHandshakes; ++i) {
    auto sample = fixture.handshake();
    auto j = testing::judge_fully_encrypted(sample.first);
    counts.exempt += j.exempt();
    counts.ex1 += j.ex1;
    counts.ex2 += j.ex2;
    counts.ex4 += j.ex4;
    counts.max_popcount = std::max(counts.max_popcount, j.popcount_per_byte);
    counts.max_first_packet = std::max(counts.max_first_packet, sample.first.size());
  }
  std::cout << "shaping '" << shaping << "': " << counts.exempt << "/" << kHandshakes << " exempt (Ex1 "
            << counts.ex1 << ", Ex2 " << counts.ex2 << ", Ex4 " << counts.ex4 << "), max popcount/byte "
            << counts.max_popcount << ", largest first packet " << counts.max_first_packet << " bytes\n";
  return counts;
}

TEST(ObfsFirstPacket, TheDefaultModeIsExemptOnEveryConnection) {
  auto counts = judge("");
  EXPECT_EQ(counts.exempt, kHandshakes);
  EXPECT_EQ(counts.ex2, kHandshakes);
  EXPECT_EQ(counts.ex4, kHandshakes);
  EXPECT_LE(counts.max_first_packet, 1400u);  // one segment on any path
}

TEST(ObfsFirstPacket, PopcountModeIsExemptByEx1OnEveryConnection) {
  auto counts = judge("popcount");
  EXPECT_EQ(counts.ex1, kHandshakes);
  EXPECT_LE(counts.max_popcount, 3.0);
  EXPECT_LE(counts.max_first_packet, 1400u);
}

TEST(ObfsFirstPacket, NoneModeLooksLikeUniformRandomBytes) {
  auto counts = judge("none");
  // Uniform bytes average 4 bits; Ex1-Ex5 exempt only a few packets by chance.
  EXPECT_LT(counts.exempt, kHandshakes / 10);
}

class ObfsNoFixedBytes : public ::testing::TestWithParam<std::string> {};

TEST_P(ObfsNoFixedBytes, NoOffsetOfTheFirst64BytesAndNoLengthIsFixed) {
  Fixture fixture(GetParam());
  std::array<std::set<std::uint8_t>, 64> first_values, reply_values, second_values;
  std::set<std::size_t> first_lengths, second_lengths, reply_lengths;
  for (int i = 0; i < kHandshakes; ++i) {
    auto sample = fixture.handshake();
    ASSERT_GE(sample.first.size(), 64u);
    ASSERT_GE(sample.reply.size(), 64u);
    ASSERT_GE(sample.second.size(), 50u);
    for (std::size_t k = 0; k < 64; ++k) {
      first_values[k].insert(sample.first[k]);
      reply_values[k].insert(sample.reply[k]);
      if (k < sample.second.size()) second_values[k].insert(sample.second[k]);
    }
    first_lengths.insert(sample.first.size());
    second_lengths.insert(sample.second.size());
    reply_lengths.insert(sample.reply.size());
  }
  for (std::size_t k = 0; k < 64; ++k) {
    // Random bytes show ~250 values per offset in 1,000 samples; shaped ones >= 50.
    EXPECT_GT(first_values[k].size(), 30u) << "client first packet, offset " << k;
    EXPECT_GT(reply_values[k].size(), 200u) << "server reply, offset " << k;
    if (k < 50) {
      EXPECT_GT(second_values[k].size(), 200u) << "client second packet, offset " << k;
    }
  }
  EXPECT_GT(first_lengths.size(), 20u);
  EXPECT_GT(second_lengths.size(), 20u);
  EXPECT_GT(reply_lengths.size(), 20u);
}

INSTANTIATE_TEST_SUITE_P(EveryMode, ObfsNoFixedBytes, ::testing::Values("none", "prefix", "popcount"));

TEST(ObfsEndpoints, DifferentEndpointSecretsGiveDifferentLengthsAndJunkHandling) {
  Fixture a(""), b("");
  EXPECT_NE(a.secrets.junk_threshold, b.secrets.junk_threshold);
  auto bins_a = a.secrets.hello_padding.bins();
  auto bins_b = b.secrets.hello_padding.bins();
  bool same = bins_a.size() == bins_b.size();
  for (std::size_t i = 0; same && i < bins_a.size(); ++i) same = bins_a[i].wire_size == bins_b[i].wire_size;
  EXPECT_FALSE(same);
  EXPECT_NE(a.secrets.popcount_alphabet, b.secrets.popcount_alphabet);
}

// Issue #20 item 10: a prefix salt's length and characters follow the endpoint secret, so
// no public rule (such as "the first character gives the length") predicts them, and a
// rule learned on one endpoint does not carry over to another.
TEST(ObfsEndpoints, ThePrefixSaltLengthAndAlphabetFollowTheEndpointSecret) {
  constexpr int kSamples = 500;
  Fixture a("prefix"), b("prefix");
  int same_length_elsewhere = 0;
  std::map<std::uint8_t, std::set<std::size_t>> lengths_by_first_byte;
  std::set<std::uint8_t> characters_a, characters_b;
  for (int i = 0; i < kSamples; ++i) {
    auto first = a.first_packet();
    auto length = a.salt_length_read(first);
    ASSERT_TRUE(length.has_value());
    ASSERT_GE(*length, kMinPrefixSalt);
    ASSERT_LE(*length, kMaxPrefixSalt);
    same_length_elsewhere += b.salt_length_read(first) == length;
    lengths_by_first_byte[first[0]].insert(*length);
    characters_a.insert(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(*length));
    auto first_b = b.first_packet();
    auto length_b = b.salt_length_read(first_b);
    ASSERT_TRUE(length_b.has_value());
    characters_b.insert(first_b.begin(), first_b.begin() + static_cast<std::ptrdiff_t>(*length_b));
  }
  std::cout << "another endpoint's server read the same salt length on " << same_length_elsewhere << "/"
            << kSamples << " packets\n";
  // Another endpoint's server reads a different length (or no salt at all) almost always.
  EXPECT_LT(same_length_elsewhere, kSamples / 10);
  // The first byte alone does not decide the length.
  std::size_t first_bytes_with_several_lengths = 0;
  for (const auto& [first_byte, lengths] : lengths_by_first_byte)
    first_bytes_with_several_lengths += lengths.size() > 1;
  EXPECT_GT(first_bytes_with_several_lengths, lengths_by_first_byte.size() / 2);
  // Each endpoint writes its salts in its own 64 printable characters.
  EXPECT_EQ(characters_a.size(), 64u);
  EXPECT_EQ(characters_b.size(), 64u);
  EXPECT_NE(characters_a, characters_b);
}

}  // namespace
}  // namespace samizdat::transport::obfs
