#include "transport/obfs/obfs_shaping.hpp"

#include <string_view>

#include "crypto/secret.hpp"

namespace samizdat::transport::obfs {
namespace {

// 64 printable characters, so a random byte's low 6 bits pick one without bias.
constexpr std::string_view kPrintable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int printable_index(std::uint8_t c) {
  auto at = kPrintable.find(static_cast<char>(c));
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

Bytes make_printable_salt() {
  std::array<std::uint8_t, kMaxPrefixSalt> random{};
  crypto::fill_random(random);
  Bytes salt;
  salt.reserve(kMaxPrefixSalt);
  salt.push_back(static_cast<std::uint8_t>(kPrintable[random[0] & 63]));
  auto length = *printable_salt_length(salt[0]);
  for (std::size_t i = 1; i < length; ++i)
    salt.push_back(static_cast<std::uint8_t>(kPrintable[random[i] & 63]));
  return salt;
}

std::optional<std::size_t> printable_salt_length(std::uint8_t first) {
  int index = printable_index(first);
  if (index < 0) return std::nullopt;
  return kMinPrefixSalt + static_cast<std::size_t>(index % (kMaxPrefixSalt - kMinPrefixSalt + 1));
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
