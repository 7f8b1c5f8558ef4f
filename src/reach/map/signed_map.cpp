#include "reach/map/signed_map.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/keyed_hash.hpp"
#include "reach/map/map_body_codec.hpp"
#include "samizdat/map.pb.h"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace samizdat::reach {
namespace {

constexpr std::string_view kMagic = "SZMAP1";
constexpr std::string_view kSignatureLabel = "samizdat-map-v1";
constexpr std::size_t kMaxField = 255;

Error malformed(const std::string& what) { return make_error(Errc::malformed, "map " + what); }

bool printable(std::string_view s, bool allow_slash) {
  return std::all_of(s.begin(), s.end(), [allow_slash](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > ' ' && u < 0x7f && (allow_slash || c != '/');
  });
}

Status check_text(const std::string& value, std::string_view what, bool required, bool allow_slash) {
  if (required && value.empty()) return malformed("has an empty " + std::string(what));
  if (value.size() > kMaxField) return malformed("has a " + std::string(what) + " longer than 255 bytes");
  if (!printable(value, allow_slash))
    return malformed("has a " + std::string(what) + " with invalid characters");
  return {};
}

Bytes signed_message(std::string_view body) {
  Bytes out = to_bytes(kSignatureLabel);
  append(out, as_bytes(body));
  return out;
}

Result<MapEndpoint> from_wire(const wire::MapEndpoint& in) {
  MapEndpoint out;
  auto& e = out.endpoint;
  SZ_CHECK(check_text(in.scheme(), "transport name", true, false));
  if (in.scheme().size() > 16 || !std::all_of(in.scheme().begin(), in.scheme().end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      })) {
    return malformed("has an invalid transport name");
  }
  SZ_CHECK(check_text(in.host(), "host", true, false));
  if (in.port() == 0 || in.port() > 65535) return malformed("lists port " + std::to_string(in.port()));
  if (in.server_static().size() != 32) return malformed("has a server key that is not 32 bytes");
  if (in.psk().size() != 32) return malformed("has an endpoint PSK that is not 32 bytes");
  SZ_CHECK(check_text(in.path(), "path", false, true));
  if (!in.path().empty() && in.path().front() != '/')
    return malformed("has a path that does not start with '/'");
  SZ_CHECK(check_text(in.sni(), "SNI", false, false));
  SZ_CHECK(check_text(in.host_header(), "Host header", false, false));
  SZ_CHECK(check_text(in.shaping(), "shaping mode", false, false));
  if (in.regions_size() > 32) return malformed("lists more than 32 regions for one endpoint");
  for (const auto& region : in.regions()) SZ_CHECK(check_text(region, "region", true, false));
  if (in.expires_at() != 0 && in.expires_at() <= in.not_before()) {
    return malformed("has an endpoint that expires before it starts");
  }
  e.scheme = in.scheme();
  e.host = in.host();
  e.port = static_cast<std::uint16_t>(in.port());
  std::copy(in.server_static().begin(), in.server_static().end(), e.server_static.begin());
  std::copy(in.psk().begin(), in.psk().end(), e.psk.begin());
  e.path = in.path();
  e.sni = in.sni();
  e.host_header = in.host_header();
  e.shaping = in.shaping();
  out.weight = in.weight();
  out.regions.assign(in.regions().begin(), in.regions().end());
  out.not_before = in.not_before();
  out.expires_at = in.expires_at();
  return out;
}

void to_wire(const MapEndpoint& in, wire::MapEndpoint& out) {
  const auto& e = in.endpoint;
  out.set_scheme(e.scheme);
  out.set_host(e.host);
  out.set_port(e.port);
  out.set_server_static(std::string(as_chars(e.server_static)));
  out.set_psk(std::string(as_chars(e.psk)));
  out.set_path(e.path);
  out.set_sni(e.sni);
  out.set_host_header(e.host_header);
  out.set_shaping(e.shaping);
  out.set_weight(in.weight);
  for (const auto& region : in.regions) out.add_regions(region);
  out.set_not_before(in.not_before);
  out.set_expires_at(in.expires_at);
}

}  // namespace

Result<NetworkMap> map_from_wire(const wire::NetworkMapBody& body, bool complete) {
  NetworkMap map;
  map.version = body.version();
  map.issued_at = body.issued_at();
  map.expires_at = body.expires_at();
  if (complete && map.version == 0) return malformed("has version 0");
  if (complete && map.expires_at <= map.issued_at) return malformed("expires before it was issued");
  if (static_cast<std::size_t>(body.endpoints_size()) > kMaxMapEndpoints)
    return malformed("lists too many endpoints");
  if (static_cast<std::size_t>(body.mirrors_size()) > kMaxMapMirrors)
    return malformed("lists too many mirrors");
  if (static_cast<std::size_t>(body.dns_names_size()) > kMaxMapDnsNames)
    return malformed("lists too many DNS names");
  for (const auto& endpoint : body.endpoints()) map.endpoints.push_back(SZ_TRY(from_wire(endpoint)));
  for (const auto& mirror : body.mirrors()) {
    if (mirror.url().size() > 2048 || !printable(mirror.url(), true) ||
        mirror.url().rfind("https://", 0) != 0) {
      return malformed("has a mirror that is not an https:// URL");
    }
    SZ_CHECK(check_text(mirror.front_sni(), "mirror SNI", false, false));
    SZ_CHECK(check_text(mirror.front_host(), "mirror Host", false, false));
    map.mirrors.push_back(MapMirror{mirror.url(), mirror.front_sni(), mirror.front_host()});
  }
  for (const auto& name : body.dns_names()) {
    SZ_CHECK(check_text(name, "DNS name", true, false));
    map.dns_names.push_back(name);
  }
  return map;
}

namespace {

std::string describe(const SignedMap& map) { return "map v" + std::to_string(map.map.version); }

}  // namespace

void map_to_wire(const NetworkMap& map, wire::NetworkMapBody& body) {
  body.set_version(map.version);
  body.set_issued_at(map.issued_at);
  body.set_expires_at(map.expires_at);
  for (const auto& endpoint : map.endpoints) to_wire(endpoint, *body.add_endpoints());
  for (const auto& mirror : map.mirrors) {
    auto* out = body.add_mirrors();
    out->set_url(mirror.url);
    out->set_front_sni(mirror.front_sni);
    out->set_front_host(mirror.front_host);
  }
  for (const auto& name : map.dns_names) body.add_dns_names(name);
}

Bytes encode_map_draft(const NetworkMap& map) {
  wire::NetworkMapBody body;
  map_to_wire(map, body);
  return to_bytes(as_bytes(body.SerializeAsString()));
}

Result<NetworkMap> decode_map_draft(ByteView bytes) {
  wire::NetworkMapBody body;
  if (bytes.size() > kMaxSignedMapBytes ||
      !body.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return malformed("draft is corrupt: restore it from a backup or start again");
  }
  return map_from_wire(body, false);
}

MapDigest map_digest(ByteView signed_map_bytes) {
  return crypto::blake2b<std::tuple_size_v<MapDigest>>({}, {signed_map_bytes});
}

Result<Bytes> sign_map(const NetworkMap& map, const SigningKeyCertificate& certificate,
                       const crypto::Ed25519KeyPair& signing_key) {
  if (!std::equal(certificate.signing_key.begin(), certificate.signing_key.end(),
                  signing_key.public_key.begin())) {
    return make_error(Errc::invalid_argument,
                      "the certificate is for another signing key: certify this key first");
  }
  wire::NetworkMapBody body;
  map_to_wire(map, body);
  std::string body_bytes = body.SerializeAsString();
  // Refuse to sign what a client would refuse to read.
  auto reparsed = map_from_wire(body, true);
  if (!reparsed.ok()) return make_error(Errc::invalid_argument, "cannot sign: " + reparsed.error().message);

  wire::SignedNetworkMap signed_map;
  signed_map.set_body(body_bytes);
  signed_map.set_signing_certificate(std::string(as_chars(encode_signing_key_certificate(certificate))));
  signed_map.set_signature(std::string(as_chars(signing_key.sign(signed_message(body_bytes)))));
  Bytes out = to_bytes(kMagic);
  append(out, as_bytes(signed_map.SerializeAsString()));
  if (out.size() > kMaxSignedMapBytes) {
    return make_error(Errc::invalid_argument, "signed map would be " + std::to_string(out.size()) +
                                                  " bytes, over the " + std::to_string(kMaxSignedMapBytes) +
                                                  " limit: remove endpoints");
  }
  return out;
}

Result<SignedMap> parse_signed_map(ByteView bytes) {
  if (bytes.size() > kMaxSignedMapBytes)
    return malformed("is too large (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.size() < kMagic.size())
    return malformed("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (as_chars(bytes.subspan(0, kMagic.size())) != kMagic)
    return malformed("does not start with SZMAP1: not a map");
  ByteView rest = bytes.subspan(kMagic.size());
  wire::SignedNetworkMap outer;
  if (!outer.ParseFromArray(rest.data(), static_cast<int>(rest.size())))
    return malformed("truncated or corrupt");
  if (outer.signature().size() != 64) return malformed("truncated (signature is not 64 bytes)");
  SignedMap out;
  out.certificate = SZ_TRY(decode_signing_key_certificate(as_bytes(outer.signing_certificate())));
  wire::NetworkMapBody body;
  if (!body.ParseFromString(outer.body())) return malformed("body truncated or corrupt");
  out.map = SZ_TRY(map_from_wire(body, true));
  out.bytes = to_bytes(bytes);
  out.digest = map_digest(bytes);
  return out;
}

Result<SignedMap> verify_map(ByteView bytes, const crypto::Ed25519Public& root, std::uint64_t now) {
  auto parsed = SZ_TRY(parse_signed_map(bytes));
  // parse_signed_map succeeded, so re-reading the outer message cannot fail.
  wire::SignedNetworkMap outer;
  outer.ParseFromArray(bytes.data() + kMagic.size(), static_cast<int>(bytes.size() - kMagic.size()));
  crypto::Ed25519Signature signature{};
  std::copy(outer.signature().begin(), outer.signature().end(), signature.begin());
  if (auto status = verify_signing_key_certificate(parsed.certificate, root, now); !status.ok()) {
    return make_error(Errc::auth_failed, describe(parsed) + ": " + status.error().message);
  }
  if (!crypto::ed25519_verify(parsed.certificate.signing_key, signed_message(outer.body()), signature).ok()) {
    return make_error(Errc::auth_failed, describe(parsed) + ": signature does not verify");
  }
  const auto& cert = parsed.certificate;
  if (parsed.map.issued_at < cert.valid_from || parsed.map.issued_at >= cert.valid_until) {
    return make_error(Errc::auth_failed, describe(parsed) + ": issued outside its signing key's validity");
  }
  if (now >= parsed.map.expires_at) {
    return make_error(Errc::auth_failed, describe(parsed) + ": expired at " +
                                             std::to_string(parsed.map.expires_at) + " (now " +
                                             std::to_string(now) + ")");
  }
  return parsed;
}

Result<SignedMap> accept_map(const SignedMap* current, ByteView candidate, const crypto::Ed25519Public& root,
                             std::uint64_t now) {
  auto verified = verify_map(candidate, root, now);
  if (!verified.ok()) {
    // "map v12: reason" becomes "map v12 rejected: reason"; parse errors have no version.
    const auto& message = verified.error().message;
    auto colon = message.find(": ");
    if (message.rfind("map v", 0) == 0 && colon != std::string::npos) {
      spdlog::info("{} rejected: {}", message.substr(0, colon), message.substr(colon + 2));
    } else {
      spdlog::info("map rejected: {}", message);
    }
    return std::move(verified).error();
  }
  if (current != nullptr && verified->map.version <= current->map.version) {
    auto reason = describe(*verified) + " rejected: " +
                  (verified->map.version == current->map.version ? "same version as the v" : "older than v") +
                  std::to_string(current->map.version) + " we have";
    spdlog::info("{}", reason);
    return make_error(Errc::replay, reason);
  }
  spdlog::info("{} accepted: {} endpoints, {} mirrors, {} DNS names, expires at {}", describe(*verified),
               verified->map.endpoints.size(), verified->map.mirrors.size(), verified->map.dns_names.size(),
               verified->map.expires_at);
  return verified;
}

crypto::Ed25519Public map_root_key(const Bootstrap& bootstrap) {
  return bootstrap.map_root ? *bootstrap.map_root : bootstrap.operator_key;
}

std::string render_map_import(ByteView signed_map_bytes) {
  return std::string(kMapImportPrefix) + base64url_encode(signed_map_bytes);
}

Result<Bytes> parse_map_import(std::string_view text) {
  if (text.size() > 4 * kMaxSignedMapBytes)
    return make_error(Errc::limit_exceeded, "map import is too large");
  if (text.substr(0, kMagic.size()) == kMagic) return to_bytes(as_bytes(text));
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact.push_back(c);
  }
  if (compact.rfind(kMapImportPrefix, 0) != 0) {
    return make_error(Errc::malformed, "not a samizdat map: it should start with '" +
                                           std::string(kMapImportPrefix) + "' (or be a map.bin file)");
  }
  auto decoded = base64url_decode(std::string_view(compact).substr(kMapImportPrefix.size()));
  if (!decoded.ok())
    return make_error(Errc::malformed, "map import is damaged (not base64url): copy it again");
  return std::move(*decoded);
}

}  // namespace samizdat::reach
