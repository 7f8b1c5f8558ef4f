#include "transport/obfs/obfs_secrets.hpp"

#include <algorithm>
#include <bit>
#include <vector>

#include "crypto/chacha20.hpp"
#include "crypto/keyed_hash.hpp"

namespace samizdat::transport::obfs {
namespace {

constexpr std::string_view kRootLabel = "samizdat/obfs/2 endpoint root";

// A deterministic stream of words from a key (ChaCha20 keystream), for seeded choices.
class SeededWords {
 public:
  explicit SeededWords(const Key& key) : key_(key) {}
  std::uint64_t next() {
    if (used_ == block_.size()) {
      std::array<std::uint8_t, 8> nonce{};
      put_u64_be(nonce.data(), counter_++);
      crypto::chacha20_keystream(
          MutableByteView(reinterpret_cast<std::uint8_t*>(block_.data()), sizeof(block_)), nonce, key_);
      used_ = 0;
    }
    return block_[used_++];
  }
  // Uniform in [0, bound) (bound small: the modulo bias of a 64-bit word is negligible).
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }

 private:
  Key key_;
  std::array<std::uint64_t, 8> block_{};
  std::size_t used_ = 8;
  std::uint64_t counter_ = 0;
};

// 64 of the byte values `allowed` admits, chosen and ordered by `words`.
template <typename Allowed>
std::array<std::uint8_t, 64> seeded_alphabet(SeededWords& words, Allowed allowed) {
  std::vector<std::uint8_t> candidates;
  for (unsigned b = 0; b < 256; ++b) {
    if (allowed(b)) candidates.push_back(static_cast<std::uint8_t>(b));
  }
  for (std::size_t i = candidates.size() - 1; i > 0; --i)
    std::swap(candidates[i], candidates[words.below(i + 1)]);
  std::array<std::uint8_t, 64> alphabet{};
  std::copy_n(candidates.begin(), alphabet.size(), alphabet.begin());
  return alphabet;
}

}  // namespace

Result<Shaping> parse_shaping(std::string_view name) {
  if (name.empty()) return kDefaultShaping;
  if (name == "none") return Shaping::none;
  if (name == "prefix") return Shaping::prefix;
  if (name == "popcount") return Shaping::popcount;
  return make_error(Errc::invalid_argument,
                    "unknown obfs shaping mode '" + std::string(name) + "' (known: none, prefix, popcount)");
}

std::string_view to_string(Shaping shaping) {
  switch (shaping) {
    case Shaping::none:
      return "none";
    case Shaping::prefix:
      return "prefix";
    case Shaping::popcount:
      return "popcount";
  }
  return "?";
}

std::chrono::milliseconds JunkPolicy::deadline(std::uint64_t random) const {
  auto span = static_cast<std::uint64_t>((deadline_max - deadline_min).count());
  return deadline_min + std::chrono::milliseconds(span == 0 ? 0 : random % (span + 1));
}

JunkPolicy ObfsSecrets::junk_policy(std::chrono::milliseconds handshake_timeout) const {
  JunkPolicy policy;
  policy.threshold_bytes = junk_threshold;
  auto total = static_cast<double>(handshake_timeout.count());
  policy.deadline_min = std::chrono::milliseconds(static_cast<std::int64_t>(total * deadline_low));
  policy.deadline_max = std::chrono::milliseconds(static_cast<std::int64_t>(total * deadline_high));
  return policy;
}

Key ObfsSecrets::subkey(std::string_view label, ByteView a, ByteView b) const {
  const std::uint8_t separator = 0;
  return crypto::blake2b<32>(root, {as_bytes(label), ByteView(&separator, 1), a, b});
}

Result<ObfsSecrets> derive_obfs_secrets(const Endpoint& endpoint) {
  ObfsSecrets secrets;
  secrets.shaping = SZ_TRY(parse_shaping(endpoint.shaping));
  // The mode by its canonical name ("" is "prefix"): two modes never share a key.
  secrets.root = crypto::blake2b<32>(
      endpoint.psk, {as_bytes(kRootLabel), endpoint.server_static, as_bytes(to_string(secrets.shaping))});

  // Record sizes: the smallest target of each still leaves room for its content, the
  // largest keeps the shaped first packet (popcount expands it by 4/3) inside one
  // 1,400-byte segment.
  auto seed = [&](std::string_view label) { return secrets.subkey(label); };
  auto hello_seed = seed("hello padding");
  auto confirm_seed = seed("confirm padding");
  auto reply_seed = seed("reply padding");
  auto frame_seed = seed("frame padding");
  secrets.hello_padding = wire::PaddingPolicy::distribution_from_seed(hello_seed, 180, 860);
  secrets.confirm_padding = wire::PaddingPolicy::distribution_from_seed(confirm_seed, 60, 420);
  secrets.reply_padding = wire::PaddingPolicy::distribution_from_seed(reply_seed, 80, 620);
  secrets.frame_padding = wire::PaddingPolicy::distribution_from_seed(frame_seed);

  SeededWords words(seed("junk and shaping"));
  secrets.junk_threshold = 20'000 + words.below(40'000);
  secrets.deadline_low = 0.5 + static_cast<double>(words.below(250)) / 1000.0;  // [0.5, 0.75)
  secrets.deadline_high = secrets.deadline_low + 0.25;                          // [0.75, 1.0)

  // The popcount alphabet: 64 of the 93 byte values with at most 3 bits set, chosen and
  // ordered per endpoint. Any mix of them averages <= 3 bits per byte (Ex1 needs <= 3.4).
  secrets.popcount_alphabet = seeded_alphabet(words, [](unsigned b) { return std::popcount(b) <= 3; });

  // The prefix rule: 64 of the 94 graphic ASCII characters (no space, so a salt never
  // reads as an HTTP request line), and the key of the salt-length hash.
  SeededWords prefix_words(seed("prefix alphabet"));
  secrets.prefix.alphabet = seeded_alphabet(prefix_words, [](unsigned b) { return b >= 0x21 && b <= 0x7e; });
  secrets.prefix.length_key = seed("prefix salt length");
  return secrets;
}

}  // namespace samizdat::transport::obfs
