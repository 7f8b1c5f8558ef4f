// The operator's network-map files (`samizdatd map ...`; docs/PROTOCOL.md "Network map"):
//   ROOT/root.key             offline root Ed25519 seed (hex, 0600); keep this directory offline
//   ROOT/root.pub             its public key (hex): the key clients pin (bootstrap map root)
//   DIR/map/signing.key       current map signing key, Ed25519 seed (hex, 0600)
//   DIR/map/signing.cert      its certificate by the root (hex, 112 bytes)
//   DIR/map/root.pub          the root public key (copied when certifying)
//   DIR/map/draft.bin         the unsigned content of the next map (endpoints, mirrors, names)
//   DIR/map/published.bin     the newest signed map: what the running server offers in-band
// Times are unix seconds.
#pragma once

#include <filesystem>
#include <vector>

#include "reach/map/signed_map.hpp"
#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::server {

// Creates ROOT with a fresh root key (ROOT must not hold one already: Errc::already_exists).
Result<crypto::Ed25519Public> init_map_root(const std::filesystem::path& root_dir);

// The root signs DIR's signing key for [valid_from, valid_until). new_key (or no key yet)
// generates a fresh signing key first: that is how the signing key is rotated.
Result<reach::SigningKeyCertificate> certify_map_signing_key(const std::filesystem::path& root_dir,
                                                             const std::filesystem::path& server_dir,
                                                             std::uint64_t valid_from,
                                                             std::uint64_t valid_until, bool new_key);

// The draft (empty if none yet) and saving it back.
Result<reach::NetworkMap> load_map_draft(const std::filesystem::path& server_dir);
Status save_map_draft(const std::filesystem::path& server_dir, const reach::NetworkMap& draft);

// An endpoint URI without ?key=/&psk= gets this server's Noise static key and endpoint PSK.
Result<transport::Endpoint> complete_map_endpoint(const std::filesystem::path& server_dir,
                                                  transport::Endpoint endpoint);

struct PublishedFiles {
  reach::SignedMap map;
  std::vector<std::filesystem::path> files;  // what was written under out_dir
};
// Signs the draft as version max(draft, published) + 1, issued now, expiring after
// `validity_seconds` (capped at the signing key's validity). Writes DIR/map/published.bin and,
// in out_dir: map.bin (the file HTTPS mirrors serve), map.txt (import string),
// dnsmasq-txt.conf and zone-txt.txt (TXT records for every DNS name of the map).
Result<PublishedFiles> publish_map(const std::filesystem::path& server_dir,
                                   const std::filesystem::path& out_dir, std::uint64_t now,
                                   std::uint64_t validity_seconds);

// DIR/map/published.bin parsed (structure only). Errc::not_found when nothing is published.
Result<reach::SignedMap> load_published_map(const std::filesystem::path& server_dir);

}  // namespace samizdat::server
