// Padding policies decide the frame sizes a censor sees; these tests measure the
// sizes of real sealed frames against each policy.
#include "wire/padding_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>

#include "crypto/secret.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::wire {
namespace {

std::size_t sealed_size(FrameEncoder& encoder, std::size_t payload_size) {
  Bytes wire;
  EXPECT_TRUE(encoder.seal_data(Bytes(payload_size, 0), wire).ok());
  return wire.size();
}

TEST(PaddingPolicy, NoneSendsExactlyPayloadPlusOverhead) {
  FrameEncoder encoder(crypto::Secret<32>::random(), PaddingPolicy::none());
  for (std::size_t size : {0, 1, 100, 1400, static_cast<int>(kMaxFramePayload)}) {
    EXPECT_EQ(sealed_size(encoder, size), size + kFrameOverhead);
  }
}

TEST(PaddingPolicy, UniformPaddingSpansZeroToMaxEvenly) {
  constexpr std::size_t kMax = 255;
  FrameEncoder encoder(crypto::Secret<32>::random(), PaddingPolicy::uniform(kMax));
  std::array<int, kMax + 1> seen{};
  constexpr int kFrames = 40000;
  double total = 0;
  for (int i = 0; i < kFrames; ++i) {
    const std::size_t padding = sealed_size(encoder, 10) - 10 - kFrameOverhead;
    ASSERT_LE(padding, kMax);
    ++seen[padding];
    total += static_cast<double>(padding);
  }
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[kMax], 0);
  EXPECT_NEAR(total / kFrames, kMax / 2.0, 4.0);
  // Chi-square against the flat distribution, 255 degrees of freedom: > 6 sigma fails.
  const double expected = static_cast<double>(kFrames) / (kMax + 1);
  double chi_square = 0;
  for (int count : seen) chi_square += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chi_square, 400.0);
}

TEST(PaddingPolicy, UniformPaddingNeverPushesAFrameOverTheLimit) {
  FrameEncoder encoder(crypto::Secret<32>::random(), PaddingPolicy::uniform(100000));
  EXPECT_EQ(encoder.policy().max_padding(), max_padding_for(0));
  for (int i = 0; i < 200; ++i) EXPECT_LE(sealed_size(encoder, kMaxFramePayload), kMaxFrameWireSize);
}

TEST(PaddingPolicy, BucketsPadToTheNextListedWireSize) {
  const std::array<std::uint16_t, 4> sizes{128, 512, 1500, 8192};
  auto policy = PaddingPolicy::buckets(sizes);
  ASSERT_TRUE(policy.ok());
  FrameEncoder encoder(crypto::Secret<32>::random(), *policy);
  EXPECT_EQ(sealed_size(encoder, 0), 128u);
  EXPECT_EQ(sealed_size(encoder, 128 - kFrameOverhead), 128u);
  EXPECT_EQ(sealed_size(encoder, 128 - kFrameOverhead + 1), 512u);
  EXPECT_EQ(sealed_size(encoder, 1000), 1500u);
  EXPECT_EQ(sealed_size(encoder, 5000), 8192u);
  EXPECT_EQ(sealed_size(encoder, 9000), 9000 + kFrameOverhead);  // above every bucket: unpadded
  std::mt19937 rng(4);
  for (int i = 0; i < 2000; ++i) {
    const std::size_t wire = sealed_size(encoder, rng() % (8192 - kFrameOverhead + 1));
    EXPECT_TRUE(std::find(sizes.begin(), sizes.end(), wire) != sizes.end()) << wire;
  }
}

TEST(PaddingPolicy, InvalidBucketListsAreRefused) {
  const std::array<std::uint16_t, 2> descending{512, 128};
  const std::array<std::uint16_t, 1> too_small{10};
  const std::array<std::uint16_t, 1> too_large{60000};
  const std::array<std::uint16_t, 17> too_many{100,  200,  300,  400,  500,  600,  700,  800, 900,
                                               1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700};
  for (auto sizes : {std::span<const std::uint16_t>(descending), std::span<const std::uint16_t>(too_small),
                     std::span<const std::uint16_t>(too_large), std::span<const std::uint16_t>(too_many),
                     std::span<const std::uint16_t>()}) {
    auto policy = PaddingPolicy::buckets(sizes);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.error().code, Errc::invalid_argument);
  }
}

TEST(PaddingPolicy, EachEndpointSeedGivesItsOwnStableSizeHistogram) {
  auto bins_of = [](std::string_view seed) {
    std::vector<std::pair<int, int>> out;
    const auto policy = PaddingPolicy::distribution_from_seed(as_bytes(seed));
    for (auto bin : policy.bins()) {
      out.emplace_back(bin.wire_size, bin.weight);
    }
    return out;
  };
  EXPECT_EQ(bins_of("server-a"), bins_of("server-a"));
  EXPECT_NE(bins_of("server-a"), bins_of("server-b"));
  std::set<std::vector<std::pair<int, int>>> distinct;
  for (int i = 0; i < 50; ++i) {
    auto bins = bins_of("server-" + std::to_string(i));
    ASSERT_GE(bins.size(), 1u);
    ASSERT_LE(bins.size(), PaddingPolicy::kMaxBins);
    for (std::size_t j = 0; j < bins.size(); ++j) {
      EXPECT_GE(bins[j].first, PaddingPolicy::kDefaultMinTarget);
      EXPECT_LE(bins[j].first, PaddingPolicy::kDefaultMaxTarget);
      EXPECT_GE(bins[j].second, 1);
      if (j > 0) {
        EXPECT_LT(bins[j - 1].first, bins[j].first);
      }
    }
    distinct.insert(bins);
  }
  EXPECT_EQ(distinct.size(), 50u);
}

TEST(PaddingPolicy, SeededDistributionSizesFollowTheHistogramWeights) {
  const auto policy = PaddingPolicy::distribution_from_seed(as_bytes("endpoint 17"));
  FrameEncoder encoder(crypto::Secret<32>::random(), policy);
  std::map<std::size_t, int> counts;
  constexpr int kFrames = 40000;
  for (int i = 0; i < kFrames; ++i) ++counts[sealed_size(encoder, 10)];  // fits every target
  std::uint32_t total_weight = 0;
  for (auto bin : policy.bins()) total_weight += bin.weight;
  double chi_square = 0;
  for (auto bin : policy.bins()) {
    const double expected = static_cast<double>(kFrames) * bin.weight / total_weight;
    const double seen = counts[bin.wire_size];
    chi_square += (seen - expected) * (seen - expected) / expected;
  }
  EXPECT_EQ(counts.size(), policy.bins().size()) << "a frame size outside the histogram was produced";
  // At most 15 degrees of freedom: 60 is far beyond any honest sample.
  EXPECT_LT(chi_square, 60.0);
}

TEST(PaddingPolicy, SeededDistributionOnlyPicksTargetsThatFit) {
  const auto policy = PaddingPolicy::distribution_from_seed(as_bytes("endpoint 3"));
  FrameEncoder encoder(crypto::Secret<32>::random(), policy);
  const auto bins = policy.bins();
  const std::size_t middle = bins[bins.size() / 2].wire_size;
  const std::size_t largest = bins.back().wire_size;
  for (int i = 0; i < 2000; ++i) {
    const std::size_t wire = sealed_size(encoder, middle - kFrameOverhead);
    EXPECT_GE(wire, middle);
    EXPECT_TRUE(std::any_of(bins.begin(), bins.end(), [&](auto bin) { return bin.wire_size == wire; }));
  }
  // Above every target: a little random padding, never more than 255 bytes.
  std::set<std::size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    const std::size_t wire = sealed_size(encoder, largest);
    EXPECT_GE(wire, largest + kFrameOverhead);
    EXPECT_LE(wire, largest + kFrameOverhead + 255);
    sizes.insert(wire);
  }
  EXPECT_GT(sizes.size(), 100u);
}

TEST(PaddingPolicy, ChaffFramesFollowThePolicy) {
  const std::array<std::uint16_t, 2> sizes{300, 1200};
  FrameEncoder encoder(crypto::Secret<32>::random(), *PaddingPolicy::buckets(sizes));
  Bytes wire;
  ASSERT_TRUE(encoder.seal_chaff(wire).ok());
  EXPECT_EQ(wire.size(), 300u);
}

}  // namespace
}  // namespace samizdat::wire
