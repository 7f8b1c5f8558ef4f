// Signed network map: the bytes every channel carries (in-band, HTTPS mirror, DNS TXT,
// contacts, import), and the one validation function clients run on them.
//
//   signed map = "SZMAP1" || protobuf samizdat.reach.SignedNetworkMap (proto/samizdat/map.proto)
//   signature  = Ed25519 by the certified signing key over "samizdat-map-v1" || body bytes
// docs/PROTOCOL.md "Network map" is the full spec.
//
// Client contract (engineer H persists): keep the bytes of the last accepted map (e.g. in
// the client's SQLite); on every candidate from any channel call accept_map(current, ...)
// and, if it succeeds, replace the stored bytes with SignedMap::bytes. Every rejection is
// logged once at info level with the reason ("map v12 rejected: older than v14 we have").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/keys.hpp"
#include "reach/bootstrap.hpp"
#include "reach/map/network_map.hpp"
#include "reach/map/signing_key_certificate.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

inline constexpr std::size_t kMaxSignedMapBytes = 64 * 1024;
using MapDigest = std::array<std::uint8_t, 32>;  // BLAKE2b-256 of the signed map bytes

struct SignedMap {
  NetworkMap map;
  SigningKeyCertificate certificate;
  Bytes bytes;         // exactly what was signed and carried: persist and forward these
  MapDigest digest{};  // map_digest(bytes): what contacts advertise (channel 4)
};

// Signs `map` with `signing_key`, which `certificate` must certify (Errc::invalid_argument
// otherwise, or if the map breaks a limit: too many endpoints, over kMaxSignedMapBytes, ...).
Result<Bytes> sign_map(const NetworkMap& map, const SigningKeyCertificate& certificate,
                       const crypto::Ed25519KeyPair& signing_key);

// Full check without history: structure, root-signed certificate valid at `now`, map signed
// by that key within the certificate window, map not expired at `now`.
// Errc::malformed (truncated, bad fields) or Errc::auth_failed (signatures, expiry).
Result<SignedMap> verify_map(ByteView bytes, const crypto::Ed25519Public& root, std::uint64_t now);

// verify_map plus "strictly newer than `current`" (Errc::replay when not newer). Logs the
// reason of a rejection ("map v12 rejected: older than v14 we have"). `current` may be null.
Result<SignedMap> accept_map(const SignedMap* current, ByteView candidate, const crypto::Ed25519Public& root,
                             std::uint64_t now);

// Structure only (no signature or time checks): for showing a stored map or the fuzzer.
Result<SignedMap> parse_signed_map(ByteView bytes);

MapDigest map_digest(ByteView signed_map_bytes);

// The root key a client pins for maps: the bootstrap's map root when it carries one,
// otherwise its operator key (old bootstrap strings keep working: the operator key then
// certifies map signing keys itself).
crypto::Ed25519Public map_root_key(const Bootstrap& bootstrap);

// Channel 5, import by hand: "samizdat-map1:" base64url(signed map) (whitespace and line
// breaks ignored), or the raw map.bin bytes. Returns the signed map bytes (not yet verified:
// pass them to accept_map).
inline constexpr std::string_view kMapImportPrefix = "samizdat-map1:";
Result<Bytes> parse_map_import(std::string_view text);
std::string render_map_import(ByteView signed_map_bytes);

}  // namespace samizdat::reach
