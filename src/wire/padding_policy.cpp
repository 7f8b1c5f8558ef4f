#include "wire/padding_policy.hpp"

#include <sodium.h>

#include <algorithm>

#include "crypto/secret.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::wire {

PaddingPolicy PaddingPolicy::uniform(std::size_t max_padding) {
  PaddingPolicy policy;
  policy.kind_ = Kind::uniform;
  policy.max_padding_ = static_cast<std::uint16_t>(std::min(max_padding, max_padding_for(0)));
  return policy;
}

Result<PaddingPolicy> PaddingPolicy::buckets(std::span<const std::uint16_t> wire_sizes) {
  if (wire_sizes.empty() || wire_sizes.size() > kMaxBins) {
    return make_error(Errc::invalid_argument, "padding buckets: give between 1 and 16 wire sizes");
  }
  PaddingPolicy policy;
  policy.kind_ = Kind::buckets;
  std::uint16_t previous = 0;
  for (std::uint16_t size : wire_sizes) {
    if (size < kMinFrameWireSize || size > kMaxFrameWireSize) {
      return make_error(Errc::invalid_argument,
                        "padding buckets: each wire size must be between 21 and 17408");
    }
    if (size <= previous) {
      return make_error(Errc::invalid_argument, "padding buckets: wire sizes must be strictly ascending");
    }
    previous = size;
    policy.bins_[policy.bin_count_++] = Bin{size, 0};
  }
  return policy;
}

PaddingPolicy PaddingPolicy::distribution_from_seed(ByteView seed, std::uint16_t min_target,
                                                    std::uint16_t max_target) {
  crypto::ensure_initialized();
  min_target = std::clamp<std::uint16_t>(min_target, kMinFrameWireSize, kMaxFrameWireSize);
  max_target = std::clamp<std::uint16_t>(max_target, min_target, kMaxFrameWireSize);

  // Seed -> DRBG key -> a few bytes of ChaCha20 keystream that pick the histogram.
  // Domain-separated so the same seed used elsewhere yields unrelated values.
  static constexpr char kDomain[] = "samizdat/wire/padding-distribution/v1";
  crypto::Secret<32> drbg_key;
  crypto_generichash(drbg_key.data(), drbg_key.size(), seed.data(), seed.size(),
                     reinterpret_cast<const std::uint8_t*>(kDomain), sizeof kDomain - 1);
  std::array<std::uint8_t, 1 + kMaxBins * 3> stream{};
  const std::array<std::uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> nonce{};
  crypto_stream_chacha20_ietf(stream.data(), stream.size(), nonce.data(), drbg_key.data());

  PaddingPolicy policy;
  policy.kind_ = Kind::distribution;
  const std::size_t count = 4 + stream[0] % (kMaxBins - 4 + 1);
  const std::uint32_t span = std::uint32_t{max_target} - min_target + 1;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* r = stream.data() + 1 + 3 * i;
    const auto size = static_cast<std::uint16_t>(min_target + (std::uint32_t{r[0]} << 8 | r[1]) % span);
    const auto weight = static_cast<std::uint16_t>(1 + r[2]);  // 1..256, never zero
    auto existing = std::find_if(policy.bins_.begin(), policy.bins_.begin() + policy.bin_count_,
                                 [&](const Bin& bin) { return bin.wire_size == size; });
    if (existing != policy.bins_.begin() + policy.bin_count_) {
      existing->weight = static_cast<std::uint16_t>(existing->weight + weight);
    } else {
      policy.bins_[policy.bin_count_++] = Bin{size, weight};
    }
  }
  std::sort(policy.bins_.begin(), policy.bins_.begin() + policy.bin_count_,
            [](const Bin& a, const Bin& b) { return a.wire_size < b.wire_size; });
  return policy;
}

std::size_t PaddingPolicy::padding_for(std::size_t payload_size, std::uint64_t random) const {
  const std::size_t room = max_padding_for(payload_size);
  const std::size_t needed = kFrameOverhead + payload_size;  // wire size without padding
  switch (kind_) {
    case Kind::none:
      return 0;
    case Kind::uniform:
      // 64 random bits modulo <= 17388: the bias is below 2^-49.
      return std::min<std::size_t>(random % (std::size_t{max_padding_} + 1), room);
    case Kind::buckets:
      for (const Bin& bin : bins()) {
        if (bin.wire_size >= needed) return bin.wire_size - needed;
      }
      return 0;
    case Kind::distribution: {
      std::uint32_t total = 0;
      for (const Bin& bin : bins()) {
        if (bin.wire_size >= needed) total += bin.weight;
      }
      if (total == 0) {
        const std::size_t largest = bin_count_ == 0 ? 0 : bins_[bin_count_ - 1].wire_size;
        const std::size_t cap = std::min({largest, std::size_t{255}, room});
        return random % (cap + 1);
      }
      std::uint32_t pick = static_cast<std::uint32_t>(random % total);
      for (const Bin& bin : bins()) {
        if (bin.wire_size < needed) continue;
        if (pick < bin.weight) return bin.wire_size - needed;
        pick -= bin.weight;
      }
      return 0;  // unreachable: pick < total
    }
  }
  return 0;
}

}  // namespace samizdat::wire
