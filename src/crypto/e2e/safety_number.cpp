#include "crypto/e2e/safety_number.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>

#include "crypto/e2e/address.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::uint8_t kFingerprintVersion = 0;
constexpr std::uint8_t kScannableVersion = 1;
constexpr std::size_t kScannableSize = 1 + 32 + 32;

// Iterated SHA-512 over one identity (the slow part is what makes a second-preimage search costly).
std::array<std::uint8_t, 64> fingerprint(const Ed25519Public& identity) {
  ensure_initialized();
  std::string stable_id = Address::from_identity(identity).to_string();
  std::array<std::uint8_t, 64> hash{};
  crypto_hash_sha512_state state;
  const std::uint8_t version[2] = {0, kFingerprintVersion};
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, version, sizeof version);
  crypto_hash_sha512_update(&state, identity.data(), identity.size());
  crypto_hash_sha512_update(&state, reinterpret_cast<const std::uint8_t*>(stable_id.data()),
                            stable_id.size());
  crypto_hash_sha512_final(&state, hash.data());
  for (int i = 0; i < kSafetyNumberIterations; ++i) {
    crypto_hash_sha512_init(&state);
    crypto_hash_sha512_update(&state, hash.data(), hash.size());
    crypto_hash_sha512_update(&state, identity.data(), identity.size());
    crypto_hash_sha512_final(&state, hash.data());
  }
  return hash;
}

// 30 bytes -> six 5-byte chunks, each (big-endian 40-bit value mod 100000) as 5 digits.
std::string digits_of(const std::array<std::uint8_t, 64>& hash) {
  std::string out;
  for (int chunk = 0; chunk < 6; ++chunk) {
    std::uint64_t value = 0;
    for (int i = 0; i < 5; ++i) value = (value << 8) | hash[chunk * 5 + i];
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%05u", static_cast<unsigned>(value % 100000));
    out += buffer;
  }
  return out;
}

}  // namespace

std::string SafetyNumber::grouped() const {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 5) {
    if (i != 0) out += ' ';
    out += digits.substr(i, 5);
  }
  return out;
}

SafetyNumber safety_number(const Ed25519Public& local_identity, const Ed25519Public& remote_identity) {
  auto local = fingerprint(local_identity);
  auto remote = fingerprint(remote_identity);
  std::string local_digits = digits_of(local);
  std::string remote_digits = digits_of(remote);
  SafetyNumber out;
  out.digits = std::min(local_digits, remote_digits) + std::max(local_digits, remote_digits);
  out.scannable.reserve(kScannableSize);
  out.scannable.push_back(kScannableVersion);
  out.scannable.insert(out.scannable.end(), local.begin(), local.begin() + 32);
  out.scannable.insert(out.scannable.end(), remote.begin(), remote.begin() + 32);
  return out;
}

Status compare_scanned_safety_number(const SafetyNumber& local, ByteView scanned) {
  if (scanned.size() != kScannableSize || scanned[0] != kScannableVersion ||
      local.scannable.size() != kScannableSize) {
    return make_error(Errc::malformed,
                      "scanned code is not a Samizdat safety number (or from another app version)");
  }
  // Their "local" is our "remote" and the other way round.
  ByteView ours = local.scannable;
  bool match = equal_constant_time(scanned.subspan(1, 32), ours.subspan(33, 32)) &&
               equal_constant_time(scanned.subspan(33, 32), ours.subspan(1, 32));
  if (!match) {
    return make_error(
        Errc::auth_failed,
        "safety numbers differ: this is not the key your contact has; verify in person before trusting");
  }
  return {};
}

}  // namespace samizdat::crypto::e2e
