// PaddingPolicy: how much zero padding the frame codec adds to each frame, so the
// sizes a censor sees do not give the protocol away. Policies speak in WIRE sizes
// (the whole frame as it appears on the connection: 2-byte masked length + AEAD
// ciphertext), because that is what an observer measures.
//
// A policy is a small value (no heap; fits in a cache line or two) and is a pure
// function of (payload size, random word): the encoder supplies the randomness from
// its secret per-frame keystream, so sampling costs no syscall and tests can replay it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::wire {

class PaddingPolicy {
 public:
  enum class Kind : std::uint8_t {
    none,          // no padding: wire size = payload + overhead
    uniform,       // padding uniform in [0, max_padding]
    buckets,       // pad to the next of a list of wire sizes
    distribution,  // per-endpoint histogram of wire sizes derived from a seed (obfs4-style)
  };

  static constexpr std::size_t kMaxBins = 16;
  // Default range of target wire sizes for distribution_from_seed: a small control
  // frame up to one full-size TCP segment's payload.
  static constexpr std::uint16_t kDefaultMinTarget = 48;
  static constexpr std::uint16_t kDefaultMaxTarget = 1448;

  struct Bin {
    std::uint16_t wire_size = 0;
    std::uint16_t weight = 0;
  };

  PaddingPolicy() = default;  // none

  static PaddingPolicy none() { return {}; }
  // Padding uniformly distributed in [0, max_padding] bytes (clamped to the frame limit).
  static PaddingPolicy uniform(std::size_t max_padding);
  // Pads each frame up to the smallest listed wire size that fits it. Sizes must be
  // ascending, distinct, at most kMaxBins of them, each within
  // [kMinFrameWireSize, kMaxFrameWireSize]; otherwise Errc::invalid_argument.
  // A frame larger than the largest size gets no padding.
  static Result<PaddingPolicy> buckets(std::span<const std::uint16_t> wire_sizes);
  // Deterministic per-endpoint distribution: the seed (any length, e.g. 32 bytes
  // from the network map) picks 4..16 target wire sizes in [min_target, max_target]
  // with random weights. Each frame's wire size is drawn from the targets that fit
  // it, in proportion to their weights. Frames larger than every target get
  // uniform padding in [0, min(largest target, 255)] so they do not all end exactly
  // at their payload size.
  static PaddingPolicy distribution_from_seed(ByteView seed, std::uint16_t min_target = kDefaultMinTarget,
                                              std::uint16_t max_target = kDefaultMaxTarget);

  // Bytes of padding for a frame carrying `payload_size` bytes, never more than the
  // frame limit allows. `random` must be uniformly random (the encoder passes
  // secret keystream); the same inputs always give the same answer.
  [[nodiscard]] std::size_t padding_for(std::size_t payload_size, std::uint64_t random) const;

  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] std::size_t max_padding() const { return max_padding_; }  // uniform only
  // Target sizes (buckets: weight 0; distribution: weights >= 1), ascending.
  [[nodiscard]] std::span<const Bin> bins() const& { return {bins_.data(), bin_count_}; }
  std::span<const Bin> bins() const&& = delete;  // would dangle: keep the policy in a variable

 private:
  Kind kind_ = Kind::none;
  std::uint8_t bin_count_ = 0;
  std::uint16_t max_padding_ = 0;
  std::array<Bin, kMaxBins> bins_{};
};

}  // namespace samizdat::wire
