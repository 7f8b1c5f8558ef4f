#include "transport/obfs/obfs_shaping.hpp"

#include <algorithm>

#include "crypto/keyed_hash.hpp"
#include "crypto/secret.hpp"

namespace samizdat::transport::obfs {

Bytes make_printable_salt(const PrefixShape& shape) {
  // Low 6 bits of a random byte pick one of the 64 characters without bias.
  std::array<std::uint8_t, kMaxPrefixSalt> random{};
  crypto::fill_random(random);
  Bytes salt(kMaxPrefixSalt);
  for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = shape.alphabet[random[i] & 63];
  salt.resize(*printable_salt_length(shape, ByteView(salt).first(kPrefixSaltHead)));
  return salt;
}

std::optional<std::size_t> printable_salt_length(const PrefixShape& shape, ByteView head) {
  if (head.size() != kPrefixSaltHead) return std::nullopt;
  for (auto c : head) {
    if (std::find(shape.alphabet.begin(), shape.alphabet.end(), c) == shape.alphabet.end())
      return std::nullopt;
  }
  auto hash = crypto::blake2b<crypto::kBlake2bMinOutput>(shape.length_key, {head});
  constexpr std::size_t kLengths = kMaxPrefixSalt - kMinPrefixSalt + 1;  // 16: a byte maps without bias
  static_assert(256 % kLengths == 0);
  return kMinPrefixSalt + hash[0] % kLengths;
}

std::size_t popcount_encoded_size(std::size_t raw_size) { return (raw_size + 2) / 3 * 4; }

void popcount_encode(const std::array<std::uint8_t, 64>& alphabet, ByteView raw, Bytes& out) {
  out.reserve(out.size() + popcount_encoded_size(raw.size()));
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) group = (group << 8) | (i + j < raw.size() ? raw[i + j] : 0u);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(alphabet[(group >> shift) & 63]);
  }
}

Status popcount_decode(const std::array<std::uint8_t, 64>& alphabet, ByteView wire, Bytes& raw) {
  if (wire.size() % 4 != 0)
    return make_error(Errc::malformed, "popcount-shaped data is not whole symbol groups");
  std::array<std::int8_t, 256> inverse;
  inverse.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) inverse[alphabet[i]] = static_cast<std::int8_t>(i);
  for (std::size_t i = 0; i < wire.size(); i += 4) {
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      auto symbol = inverse[wire[i + j]];
      if (symbol < 0) return make_error(Errc::malformed, "byte outside the popcount alphabet");
      group = (group << 6) | static_cast<std::uint32_t>(symbol);
    }
    raw.push_back(static_cast<std::uint8_t>(group >> 16));
    raw.push_back(static_cast<std::uint8_t>(group >> 8));
    raw.push_back(static_cast<std::uint8_t>(group));
  }
  return {};
}

}  // namespace samizdat::transport::obfs
