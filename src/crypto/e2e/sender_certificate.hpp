// A sender certificate: the server vouches that an identity key (and device) is a registered
// sender until an expiry. Sealed-sender recipients check it against the operator's server
// certificate key pinned from the bootstrap string, so the server need not see who sends.
//
//   version(1)=1 || sender_identity(32) || sender_device_id(u32) || expires_unix_ms(u64)
//   || signature(64) over "Samizdat_SenderCertificate_v1" || the preceding 45 bytes
#pragma once

#include <cstdint>

#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

inline constexpr std::size_t kSenderCertificateSize = 109;

struct SenderCertificate {
  Ed25519Public sender_identity{};
  DeviceId sender_device_id = 0;
  std::int64_t expires_unix_ms = 0;
  Ed25519Signature signature{};

  // Server side: sign a certificate with the server certificate key.
  static SenderCertificate issue(const Ed25519KeyPair& server_certificate_key,
                                 const Ed25519Public& sender_identity, DeviceId sender_device_id,
                                 std::int64_t expires_unix_ms);

  Bytes encode() const;
  // Errc::malformed unless exactly kSenderCertificateSize bytes of a known version. Does NOT verify.
  static Result<SenderCertificate> parse(ByteView bytes);

  // Errc::auth_failed if the signature is not by trusted_server_key ("... not signed by this
  // network's server key"), or if expired at now_unix_ms ("sender certificate expired ...").
  Status verify(const Ed25519Public& trusted_server_key, std::int64_t now_unix_ms) const;

  bool operator==(const SenderCertificate&) const = default;
};

}  // namespace samizdat::crypto::e2e
