// Safety numbers (Signal's numeric fingerprint): each side's fingerprint is
//   h = SHA-512(version(2) || identity_key || stable_id); 5200 times h = SHA-512(h || identity_key)
// with stable_id = the canonical address; 30 bytes -> 6 chunks of 5 bytes -> 30 digits. The two
// 30-digit halves are sorted and joined, so both sides show the same 60 digits (12 groups of 5).
// The scannable form (e.g. for a QR code) is version(1) || local fingerprint(32) || remote(32).
#pragma once

#include <string>

#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr int kSafetyNumberIterations = 5200;

struct SafetyNumber {
  std::string digits;  // 60 digits, no spaces
  Bytes scannable;     // 65 bytes, specific to this side (local first)

  std::string grouped() const;  // "12345 67890 ..." (12 groups of 5)
};

SafetyNumber safety_number(const Ed25519Public& local_identity, const Ed25519Public& remote_identity);

// Compare what the other side's screen showed (their scannable form): Errc::auth_failed
// "safety numbers differ: ..." if the keys do not match, Errc::malformed if it is not one.
Status compare_scanned_safety_number(const SafetyNumber& local, ByteView scanned);

}  // namespace samizdat::crypto::e2e
