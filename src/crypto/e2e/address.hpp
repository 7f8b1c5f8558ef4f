// Account addresses: a text form that CONTAINS the full Ed25519 identity key, so adding a
// contact by address pins the key without trusting the server (like Tor v3 onion names).
//
//   "sz1" + base32( version(1) || identity_key(32) || checksum(7) )   = "sz1" + 64 characters
//   checksum = BLAKE2b-56 over "Samizdat_Address_v1" || version || identity_key
//
// The grouped form ("sz1-abcdefgh-...") is for people; parsing ignores '-', spaces and case.
#pragma once

#include <string>
#include <string_view>

#include "crypto/keys.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr std::string_view kAddressPrefix = "sz1";
inline constexpr std::uint8_t kAddressVersion = 1;

struct Address {
  Ed25519Public identity_key{};

  static Address from_identity(const Ed25519Public& identity_key) { return Address{identity_key}; }
  // Errc::invalid_argument on any problem; a typo gives "address checksum does not match: ...",
  // a wrong length/prefix/version/character gives its own message.
  static Result<Address> parse(std::string_view text);

  std::string to_string() const;          // canonical: "sz1" + 64 base32 characters
  std::string to_grouped_string() const;  // "sz1-xxxxxxxx-...-xxxxxxxx" (8 groups of 8)

  bool operator==(const Address&) const = default;
};

}  // namespace samizdat::crypto::e2e
