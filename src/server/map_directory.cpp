#include "server/map_directory.hpp"

#include <sodium.h>

#include <algorithm>

#include "crypto/secret.hpp"
#include "reach/channels/dns_txt_map.hpp"
#include "reach/map/map_body_codec.hpp"
#include "server/key_file.hpp"
#include "util/file.hpp"

namespace samizdat::server {
namespace {

namespace fs = std::filesystem;

fs::path map_dir(const fs::path& server_dir) { return server_dir / "map"; }

Status ensure_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "cannot create " + dir.string() + ": " + ec.message());
  return {};
}

Result<crypto::Ed25519KeyPair> read_signing_key(const fs::path& file) {
  auto seed = SZ_TRY(read_hex_file<32>(file));
  auto pair = crypto::Ed25519KeyPair::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

}  // namespace

Result<crypto::Ed25519Public> init_map_root(const fs::path& root_dir) {
  if (fs::exists(root_dir / "root.key")) {
    return make_error(Errc::already_exists, root_dir.string() + " already holds a root key: keep using it");
  }
  SZ_CHECK(ensure_dir(root_dir));
  auto seed = crypto::random_bytes(32);
  auto root = crypto::Ed25519KeyPair::from_seed(seed);
  SZ_CHECK(write_secret_hex_file(root_dir / "root.key", seed));
  sodium_memzero(seed.data(), seed.size());
  SZ_CHECK(write_public_hex_file(root_dir / "root.pub", root.public_key));
  return root.public_key;
}

Result<reach::SigningKeyCertificate> certify_map_signing_key(const fs::path& root_dir,
                                                             const fs::path& server_dir,
                                                             std::uint64_t valid_from,
                                                             std::uint64_t valid_until, bool new_key) {
  auto root = read_signing_key(root_dir / "root.key");
  if (!root.ok()) {
    return make_error(root.error().code, root.error().message + " (make one with `samizdatd map init-root`)");
  }
  SZ_CHECK(ensure_dir(map_dir(server_dir)));
  auto key_file = map_dir(server_dir) / "signing.key";
  if (new_key || !fs::exists(key_file)) {
    auto seed = crypto::random_bytes(32);
    SZ_CHECK(write_secret_hex_file(key_file, seed));
    sodium_memzero(seed.data(), seed.size());
  }
  auto signing = SZ_TRY(read_signing_key(key_file));
  auto certificate = SZ_TRY(reach::certify_signing_key(*root, signing.public_key, valid_from, valid_until));
  SZ_CHECK(write_public_hex_file(map_dir(server_dir) / "signing.cert",
                                 reach::encode_signing_key_certificate(certificate)));
  SZ_CHECK(write_public_hex_file(map_dir(server_dir) / "root.pub", root->public_key));
  return certificate;
}

Result<reach::NetworkMap> load_map_draft(const fs::path& server_dir) {
  auto file = map_dir(server_dir) / "draft.bin";
  if (!fs::exists(file)) return reach::NetworkMap{};
  auto bytes = SZ_TRY(read_file(file));
  return reach::decode_map_draft(bytes);
}

Status save_map_draft(const fs::path& server_dir, const reach::NetworkMap& draft) {
  SZ_CHECK(ensure_dir(map_dir(server_dir)));
  return write_file_atomically(map_dir(server_dir) / "draft.bin", reach::encode_map_draft(draft));
}

Result<transport::Endpoint> complete_map_endpoint(const fs::path& server_dir, transport::Endpoint endpoint) {
  const transport::Psk zero{};
  if (endpoint.server_static == zero) {
    auto secret = SZ_TRY(read_hex_file<32>(server_dir / "keys" / "noise_static.key"));
    endpoint.server_static = crypto::X25519KeyPair::from_secret(secret).public_key;
    sodium_memzero(secret.data(), secret.size());
  }
  if (endpoint.psk == zero) endpoint.psk = SZ_TRY(read_hex_file<32>(server_dir / "keys" / "endpoint.psk"));
  return endpoint;
}

Result<reach::SignedMap> load_published_map(const fs::path& server_dir) {
  auto file = map_dir(server_dir) / "published.bin";
  if (!fs::exists(file))
    return make_error(Errc::not_found, "no map published yet: run `samizdatd map publish`");
  auto bytes = SZ_TRY(read_file(file));
  return reach::parse_signed_map(bytes);
}

Result<PublishedFiles> publish_map(const fs::path& server_dir, const fs::path& out_dir, std::uint64_t now,
                                   std::uint64_t validity_seconds) {
  auto draft = SZ_TRY(load_map_draft(server_dir));
  if (draft.endpoints.empty())
    return make_error(Errc::invalid_argument, "the map has no endpoints: add one first");
  auto signing = read_signing_key(map_dir(server_dir) / "signing.key");
  if (!signing.ok()) {
    return make_error(signing.error().code,
                      "no map signing key: run `samizdatd map certify-signing-key` first (" +
                          signing.error().message + ")");
  }
  auto certificate_bytes = SZ_TRY(read_hex_file<112>(map_dir(server_dir) / "signing.cert"));
  auto certificate = SZ_TRY(reach::decode_signing_key_certificate(certificate_bytes));
  if (now < certificate.valid_from || now >= certificate.valid_until) {
    return make_error(
        Errc::invalid_argument,
        "the map signing key is not valid now: certify a new one (`samizdatd map certify-signing-key "
        "--new`)");
  }
  std::uint64_t last = draft.version;
  if (auto published = load_published_map(server_dir); published.ok())
    last = std::max(last, published->map.version);
  draft.version = last + 1;
  draft.issued_at = now;
  draft.expires_at = std::min(now + validity_seconds, certificate.valid_until);
  auto bytes = SZ_TRY(reach::sign_map(draft, certificate, *signing));
  auto parsed = SZ_TRY(reach::parse_signed_map(bytes));

  PublishedFiles out;
  SZ_CHECK(ensure_dir(out_dir));
  auto write = [&out](const fs::path& file, ByteView content) -> Status {
    SZ_CHECK(write_file_atomically(file, content));
    out.files.push_back(file);
    return {};
  };
  SZ_CHECK(write(out_dir / "map.bin", bytes));
  SZ_CHECK(write(out_dir / "map.txt", as_bytes(reach::render_map_import(bytes) + "\n")));
  auto records = reach::render_map_txt_records(bytes);
  std::string dnsmasq, zone;
  for (const auto& name : draft.dns_names) {
    dnsmasq += reach::render_dnsmasq_txt_config(name, records);
    zone += reach::render_zone_txt_fragment(name, records);
  }
  SZ_CHECK(write(out_dir / "dnsmasq-txt.conf", as_bytes(dnsmasq)));
  SZ_CHECK(write(out_dir / "zone-txt.txt", as_bytes(zone)));
  SZ_CHECK(write_file_atomically(map_dir(server_dir) / "published.bin", bytes));
  SZ_CHECK(save_map_draft(server_dir, draft));
  out.map = std::move(parsed);
  return out;
}

}  // namespace samizdat::server
