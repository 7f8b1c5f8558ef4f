#include <gtest/gtest.h>

#include "censor/probe/active_prober.hpp"

namespace samizdat::censor {
namespace {

ProbeReaction reaction(std::string probe, std::size_t sent, ProbeEnd end, std::size_t received,
                       std::string hex = "") {
  ProbeReaction r;
  r.probe = std::move(probe);
  r.sent = sent;
  r.end = end;
  r.received = received;
  r.first_bytes_hex = std::move(hex);
  return r;
}

std::vector<ProbeReaction> randoms(ProbeEnd end, std::size_t received) {
  std::vector<ProbeReaction> out;
  for (std::size_t n : {7, 16, 33, 50, 221})
    out.push_back(reaction("random-" + std::to_string(n), n, end, received));
  return out;
}

TEST(ActiveProberDecision, BlocksAServerThatAnswersOnlyTheIdenticalReplay) {
  auto r = randoms(ProbeEnd::timeout, 0);
  r.push_back(reaction("replay", 40, ProbeEnd::timeout, 15));
  r.push_back(reaction("replay-changed", 40, ProbeEnd::timeout, 0));
  auto d = decide(r, {});
  EXPECT_TRUE(d.replay_accepted);
  EXPECT_TRUE(d.block);
}

TEST(ActiveProberDecision, LeavesARandomServiceAlone) {
  // A banner service greets everything the same way.
  auto r = randoms(ProbeEnd::timeout, 18);
  r.push_back(reaction("replay", 40, ProbeEnd::timeout, 18));
  r.push_back(reaction("replay-changed", 40, ProbeEnd::timeout, 18));
  EXPECT_FALSE(decide(r, {}).block);
}

TEST(ActiveProberDecision, LeavesAWebsiteAlone) {
  const std::string http = "485454502f312e31";  // "HTTP/1.1"
  auto r = randoms(ProbeEnd::closed, 150);
  r.push_back(reaction("replay", 40, ProbeEnd::closed, 150, http));
  r.push_back(reaction("replay-changed", 40, ProbeEnd::closed, 150, http));
  r.push_back(reaction("http", 80, ProbeEnd::closed, 600, http));
  auto d = decide(r, {});
  EXPECT_TRUE(d.answers_http);
  EXPECT_FALSE(d.block);
}

TEST(ActiveProberDecision, BlocksAFixedLengthThresholdFingerprint) {
  std::vector<ProbeReaction> r;
  for (std::size_t n : {7, 16, 33, 49})
    r.push_back(reaction("random-" + std::to_string(n), n, ProbeEnd::timeout, 0));
  for (std::size_t n : {50, 221}) r.push_back(reaction("random-" + std::to_string(n), n, ProbeEnd::reset, 0));
  auto d = decide(r, {});
  EXPECT_TRUE(d.length_threshold);
  EXPECT_TRUE(d.block);
  ProberPolicy lenient;
  lenient.block_on_threshold = false;
  EXPECT_FALSE(decide(r, lenient).block);
}

TEST(ActiveProberDecision, ChangingOneByteNeverAddsOrRemovesANewline) {
  Bytes payload{0x0a, 0x8a, 0x41, 0x0a};
  auto changed = change_one_byte(payload);
  EXPECT_EQ(changed[2], 0x41 ^ 0x80);
  EXPECT_EQ(std::count(changed.begin(), changed.end(), 0x0a), 2);
}

}  // namespace
}  // namespace samizdat::censor
