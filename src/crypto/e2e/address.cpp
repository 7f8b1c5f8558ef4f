#include "crypto/e2e/address.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "util/encoding.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::size_t kChecksumSize = 7;  // 1 + 32 + 7 = 40 bytes = exactly 64 base32 characters
constexpr std::size_t kPayloadSize = 1 + 32 + kChecksumSize;
constexpr std::size_t kPayloadChars = kPayloadSize * 8 / 5;
constexpr std::string_view kChecksumDomain = "Samizdat_Address_v1";

std::array<std::uint8_t, kChecksumSize> checksum(std::uint8_t version, const Ed25519Public& key) {
  ensure_initialized();
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kChecksumSize);
  crypto_generichash_blake2b_update(&state, reinterpret_cast<const std::uint8_t*>(kChecksumDomain.data()),
                                    kChecksumDomain.size());
  crypto_generichash_blake2b_update(&state, &version, 1);
  crypto_generichash_blake2b_update(&state, key.data(), key.size());
  std::array<std::uint8_t, kChecksumSize> out{};
  crypto_generichash_blake2b_final(&state, out.data(), out.size());
  return out;
}

}  // namespace

std::string Address::to_string() const {
  Bytes payload;
  payload.reserve(kPayloadSize);
  payload.push_back(kAddressVersion);
  append(payload, identity_key);
  append(payload, checksum(kAddressVersion, identity_key));
  return std::string(kAddressPrefix) + base32_encode(payload);
}

std::string Address::to_grouped_string() const {
  std::string canonical = to_string();
  std::string out(kAddressPrefix);
  for (std::size_t i = kAddressPrefix.size(); i < canonical.size(); i += 8) {
    out += '-';
    out += canonical.substr(i, 8);
  }
  return out;
}

Result<Address> Address::parse(std::string_view text) {
  // People paste addresses with spaces, dashes and capitals: normalise before judging.
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (c == '-' || std::isspace(static_cast<unsigned char>(c))) continue;
    compact += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (compact.rfind(kAddressPrefix, 0) != 0) {
    return make_error(Errc::invalid_argument,
                      "not a Samizdat address: it must start with \"" + std::string(kAddressPrefix) + "\"");
  }
  std::string_view body = std::string_view(compact).substr(kAddressPrefix.size());
  if (body.size() != kPayloadChars) {
    return make_error(Errc::invalid_argument,
                      "address has " + std::to_string(body.size()) + " characters after \"sz1\", expected " +
                          std::to_string(kPayloadChars) + ": part of it is missing or extra");
  }
  auto decoded = base32_decode(body);
  if (!decoded.ok() || decoded->size() != kPayloadSize) {
    return make_error(
        Errc::invalid_argument,
        "address contains a character that is not allowed (only a-z and 2-7): check for a typing mistake");
  }
  const Bytes& payload = *decoded;
  std::uint8_t version = payload[0];
  Ed25519Public key{};
  std::copy_n(payload.begin() + 1, 32, key.begin());
  // The checksum covers the version too, so a mistyped version character reads as a typo.
  auto expected = checksum(version, key);
  if (!equal_constant_time(expected, ByteView(payload).subspan(33))) {
    return make_error(Errc::invalid_argument, "address checksum does not match: check for a typing mistake");
  }
  if (version != kAddressVersion) {
    return make_error(Errc::invalid_argument,
                      "address version " + std::to_string(version) +
                          " is not supported by this app: update it to add this contact");
  }
  if (!ed25519_public_to_x25519(key).ok()) {
    return make_error(Errc::invalid_argument, "address does not contain a valid identity key");
  }
  return Address{key};
}

}  // namespace samizdat::crypto::e2e
