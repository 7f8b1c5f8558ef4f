// HMAC-SHA256/SHA512 (libsodium's crypto_auth_hmacsha*) and HKDF (RFC 5869) over them.
// libsodium 1.0.18 has no HKDF, so it is written once, here, and tested against RFC 5869.
#pragma once

#include "crypto/secret.hpp"
#include "util/bytes.hpp"

namespace samizdat::crypto::e2e {

Secret<32> hmac_sha256(ByteView key, ByteView message);
Secret<64> hmac_sha512(ByteView key, ByteView message);

// HKDF-Extract + HKDF-Expand. An empty salt means HashLen zero bytes (RFC 5869 2.2).
// out.size() must be at most 255 * HashLen (a programmer error otherwise: aborts).
void hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, MutableByteView out);
void hkdf_sha512(ByteView salt, ByteView ikm, ByteView info, MutableByteView out);

}  // namespace samizdat::crypto::e2e
