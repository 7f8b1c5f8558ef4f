// ObfsSecrets: everything the obfs transport derives from an endpoint's secret (its PSK
// and the server's static key, which only bootstrap/map holders know) and its shaping
// mode: the root key of the handshake masking, the per-endpoint shaping parameters
// (prefix alphabet and salt-length key, popcount alphabet), length distributions and
// junk-handling parameters. Two endpoints with different secrets get different
// distributions, so lengths and timings are not one global fingerprint. The mode is mixed
// into the root, so a client whose mode differs from the server's never authenticates,
// however its first bytes happen to parse.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "transport/endpoint.hpp"
#include "transport/obfs/obfs_shaping.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"
#include "wire/padding_policy.hpp"

namespace samizdat::transport::obfs {

// How the client's first packet is shaped so the GFW's "fully encrypted" rules (Wu et al.
// 2023) exempt it; see obfs_shaping.hpp.
enum class Shaping : std::uint8_t { none, prefix, popcount };
// Used when an endpoint does not name a mode: exempt on every connection (Ex2 + Ex4).
inline constexpr Shaping kDefaultShaping = Shaping::prefix;

// "" (the default), "none", "prefix", "popcount"; Errc::invalid_argument otherwise.
Result<Shaping> parse_shaping(std::string_view name);
std::string_view to_string(Shaping shaping);

using Key = std::array<std::uint8_t, 32>;

// How a listener treats a connection that has not authenticated (junk, probes, replays):
// it reads and discards up to `threshold_bytes` in total, or until the connection's
// deadline, drawn per connection uniformly from [deadline_min, deadline_max]; then it
// resets the connection. Nothing is ever sent back.
struct JunkPolicy {
  std::size_t threshold_bytes = 0;
  std::chrono::milliseconds deadline_min{0};
  std::chrono::milliseconds deadline_max{0};
  // A connection's deadline from a uniformly random word.
  [[nodiscard]] std::chrono::milliseconds deadline(std::uint64_t random) const;
};

struct ObfsSecrets {
  Key root{};  // BLAKE2b(key = PSK, label || server static key || shaping mode name)
  Shaping shaping = kDefaultShaping;
  PrefixShape prefix;                                // prefix shaping: alphabet, salt-length key
  wire::PaddingPolicy hello_padding;                 // client first record (carries Noise message 1)
  wire::PaddingPolicy confirm_padding;               // client second record (liveness confirmation)
  wire::PaddingPolicy reply_padding;                 // server record (carries Noise message 2)
  wire::PaddingPolicy frame_padding;                 // frames after the handshake
  std::array<std::uint8_t, 64> popcount_alphabet{};  // popcount shaping: symbol -> byte
  // Fraction in [0.5, 1) of the listener's handshake timeout, and the threshold in
  // [20000, 60000): both per endpoint (see junk_policy()).
  double deadline_low = 0.5;
  double deadline_high = 1.0;
  std::size_t junk_threshold = 0;

  // The junk policy for a listener whose handshake timeout is `handshake_timeout`.
  [[nodiscard]] JunkPolicy junk_policy(std::chrono::milliseconds handshake_timeout) const;
  // A 32-byte subkey: BLAKE2b(key = root, label || parts...).
  [[nodiscard]] Key subkey(std::string_view label, ByteView a = {}, ByteView b = {}) const;
};

// Derives every per-endpoint value from endpoint.psk, endpoint.server_static and
// endpoint.shaping. Errc::invalid_argument for an unknown shaping mode.
Result<ObfsSecrets> derive_obfs_secrets(const Endpoint& endpoint);

}  // namespace samizdat::transport::obfs
