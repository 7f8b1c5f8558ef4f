// Invites: the one line a user hands to someone so they can add them as a contact.
//
//   "szi1" + base64url( version(1)=1 || identity_key(32) || device_id(u32be) || checksum(8) )
//   checksum = BLAKE2b-64 over "Samizdat_Invite_v1" || the preceding bytes
//
// The identity key is in the invite, so adding a contact pins their key without trusting
// the server. A plain address ("sz1...") is accepted too and means device 1.
#pragma once

#include <string>
#include <string_view>

#include "crypto/e2e/address.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "util/result.hpp"

namespace samizdat::client {

inline constexpr std::string_view kInvitePrefix = "szi1";

struct Invite {
  crypto::Ed25519Public identity_key{};
  crypto::e2e::DeviceId device_id = 1;

  std::string to_string() const;
  // Errc::invalid_argument with what is wrong ("invite checksum does not match: was it
  // copied completely?"). Surrounding whitespace is ignored.
  static Result<Invite> parse(std::string_view text);
  crypto::e2e::Address address() const { return crypto::e2e::Address::from_identity(identity_key); }
};

}  // namespace samizdat::client
