#include "reach/bootstrap.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/keyed_hash.hpp"
#include "util/encoding.hpp"

namespace samizdat::reach {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kVersionWithMapRoot = 2;
constexpr std::uint8_t kVersionWithChannels = 3;
constexpr std::string_view kChecksumLabel = "samizdat-bootstrap-v1";
constexpr std::size_t kChecksumSize = 4;
constexpr std::size_t kMaxText = 8192;
enum Tag : std::uint8_t { kPath = 1, kSni = 2, kHostHeader = 3, kShaping = 4 };
// Network-level tags (version 3), numbered after the endpoint tags so a tag means one thing.
enum ChannelTag : std::uint8_t { kMirrorUrl = 5, kMirrorSni = 6, kMirrorHost = 7, kDnsName = 8 };
constexpr std::string_view kHttps = "https://";

std::array<std::uint8_t, kChecksumSize> checksum(ByteView body) {
  auto digest = crypto::blake2b<32>({}, {as_bytes(kChecksumLabel), body});
  std::array<std::uint8_t, kChecksumSize> out{};
  std::copy_n(digest.begin(), kChecksumSize, out.begin());
  return out;
}

bool valid_text(std::string_view s, bool allow_slash) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f) return false;
    if (!allow_slash && c == '/') return false;
  }
  return true;
}

Error bad(std::string message) { return make_error(Errc::invalid_argument, "bootstrap string " + message); }

Status put_string(Bytes& out, std::string_view s, std::string_view what, std::size_t max = 255) {
  if (s.size() > max)
    return bad("cannot hold a " + std::string(what) + " longer than " + std::to_string(max));
  out.push_back(static_cast<std::uint8_t>(s.size()));
  append(out, as_bytes(s));
  return {};
}

class Reader {
 public:
  explicit Reader(ByteView bytes) : bytes_(bytes) {}
  Result<ByteView> take(std::size_t n, std::string_view what) {
    if (bytes_.size() - offset_ < n)
      return bad("is incomplete (it ends inside the " + std::string(what) + ")");
    ByteView out = bytes_.subspan(offset_, n);
    offset_ += n;
    return out;
  }
  Result<std::uint8_t> u8(std::string_view what) { return SZ_TRY(take(1, what))[0]; }
  Result<std::string> str(std::string_view what, std::size_t min, std::size_t max, bool allow_slash) {
    auto length = SZ_TRY(u8(what));
    if (length < min || length > max) {
      return bad("has a " + std::string(what) + " of invalid length " + std::to_string(length));
    }
    auto text = std::string(as_chars(SZ_TRY(take(length, what))));
    if (!valid_text(text, allow_slash)) return bad("has a " + std::string(what) + " with invalid characters");
    return text;
  }
  bool done() const { return offset_ == bytes_.size(); }

 private:
  ByteView bytes_;
  std::size_t offset_ = 0;
};

// Version 3's mirrors and DNS names (format in bootstrap.hpp).
Status parse_channels(Reader& reader, Bootstrap& bootstrap) {
  auto count = SZ_TRY(reader.u8("channel count"));
  if (count == 0) return bad("announces mirrors or DNS names but lists none");
  std::uint8_t last_tag = 0;
  for (std::size_t i = 0; i < count; ++i) {
    auto tag = SZ_TRY(reader.u8("channel tag"));
    if (tag < kMirrorUrl || tag > kDnsName)
      return bad("has an unknown channel " + std::to_string(tag) + ": update the app");
    // A mirror's SNI/Host follow its URL in that order; names come after every mirror.
    bool in_order = false;
    switch (tag) {
      case kMirrorUrl:
        in_order = last_tag <= kMirrorHost;
        break;
      case kMirrorSni:
        in_order = last_tag == kMirrorUrl;
        break;
      case kMirrorHost:
        in_order = last_tag == kMirrorUrl || last_tag == kMirrorSni;
        break;
      default:
        in_order = true;
    }
    if (!in_order) return bad("has its mirrors and DNS names out of order");
    last_tag = tag;
    auto value = SZ_TRY(reader.str("mirror or DNS name", 1, 255, tag == kMirrorUrl));
    if (tag == kMirrorUrl) {
      if (value.substr(0, kHttps.size()) != kHttps || value.size() <= kHttps.size())
        return bad("has a mirror URL that does not start with https://");
      if (bootstrap.mirrors.size() == kMaxBootstrapMirrors) return bad("lists too many mirrors");
      bootstrap.mirrors.push_back(MapMirror{std::move(value), {}, {}});
    } else if (tag == kMirrorSni) {
      bootstrap.mirrors.back().front_sni = std::move(value);
    } else if (tag == kMirrorHost) {
      bootstrap.mirrors.back().front_host = std::move(value);
    } else {
      if (bootstrap.dns_names.size() == kMaxBootstrapDnsNames) return bad("lists too many DNS names");
      bootstrap.dns_names.push_back(std::move(value));
    }
  }
  return {};
}

}  // namespace

Result<std::string> encode_bootstrap(const Bootstrap& bootstrap) {
  if (bootstrap.endpoints.empty()) return bad("needs at least one endpoint");
  if (bootstrap.endpoints.size() > kMaxBootstrapEndpoints) {
    return bad("holds at most " + std::to_string(kMaxBootstrapEndpoints) + " endpoints");
  }
  const bool channels = !bootstrap.mirrors.empty() || !bootstrap.dns_names.empty();
  if (channels && !bootstrap.map_root) {
    return bad("cannot carry mirrors or DNS names without the map root key that verifies their maps");
  }
  if (bootstrap.mirrors.size() > kMaxBootstrapMirrors || bootstrap.dns_names.size() > kMaxBootstrapDnsNames) {
    return bad("holds at most " + std::to_string(kMaxBootstrapMirrors) + " mirrors and " +
               std::to_string(kMaxBootstrapDnsNames) + " DNS names");
  }
  Bytes out;
  out.push_back(channels ? kVersionWithChannels : bootstrap.map_root ? kVersionWithMapRoot : kVersion);
  append(out, bootstrap.operator_key);
  if (bootstrap.map_root) append(out, *bootstrap.map_root);
  out.push_back(static_cast<std::uint8_t>(bootstrap.endpoints.size()));
  for (const auto& endpoint : bootstrap.endpoints) {
    if (endpoint.scheme.empty() || endpoint.scheme.size() > 16 || !valid_text(endpoint.scheme, false)) {
      return bad("cannot hold the transport name '" + endpoint.scheme + "'");
    }
    if (endpoint.host.empty() || !valid_text(endpoint.host, false)) {
      return bad("cannot hold the host '" + endpoint.host + "'");
    }
    if (endpoint.port == 0) return bad("needs a real port for " + endpoint.host + ", not 0");
    SZ_CHECK(put_string(out, endpoint.scheme, "transport name", 16));
    SZ_CHECK(put_string(out, endpoint.host, "host"));
    std::uint8_t port[2];
    put_u16_be(port, endpoint.port);
    append(out, ByteView(port, 2));
    append(out, endpoint.server_static);
    append(out, endpoint.psk);
    std::vector<std::pair<Tag, const std::string*>> options;
    if (!endpoint.path.empty()) options.emplace_back(kPath, &endpoint.path);
    if (!endpoint.sni.empty()) options.emplace_back(kSni, &endpoint.sni);
    if (!endpoint.host_header.empty()) options.emplace_back(kHostHeader, &endpoint.host_header);
    if (!endpoint.shaping.empty()) options.emplace_back(kShaping, &endpoint.shaping);
    out.push_back(static_cast<std::uint8_t>(options.size()));
    for (auto [tag, value] : options) {
      if (!valid_text(*value, tag == kPath)) return bad("cannot hold the option '" + *value + "'");
      out.push_back(tag);
      SZ_CHECK(put_string(out, *value, "endpoint option"));
    }
  }
  if (channels) {
    std::vector<std::pair<std::uint8_t, const std::string*>> entries;
    for (const auto& mirror : bootstrap.mirrors) {
      if (mirror.url.substr(0, kHttps.size()) != kHttps || mirror.url.size() <= kHttps.size() ||
          !valid_text(mirror.url, true)) {
        return bad("cannot hold the mirror URL '" + mirror.url + "' (https://HOST[:PORT]/PATH)");
      }
      entries.emplace_back(kMirrorUrl, &mirror.url);
      if (!mirror.front_sni.empty()) entries.emplace_back(kMirrorSni, &mirror.front_sni);
      if (!mirror.front_host.empty()) entries.emplace_back(kMirrorHost, &mirror.front_host);
    }
    for (const auto& name : bootstrap.dns_names) entries.emplace_back(kDnsName, &name);
    out.push_back(static_cast<std::uint8_t>(entries.size()));  // at most 8 * 3 + 8
    for (auto [tag, value] : entries) {
      if (value->empty() || !valid_text(*value, tag == kMirrorUrl)) {
        return bad("cannot hold the mirror or DNS name '" + *value + "'");
      }
      out.push_back(tag);
      SZ_CHECK(put_string(out, *value, "mirror or DNS name"));
    }
  }
  append(out, checksum(out));
  return std::string(kBootstrapPrefix) + base64url_encode(out);
}

Result<Bootstrap> parse_bootstrap(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() > kMaxText) return bad("is too long (" + std::to_string(text.size()) + " characters)");
  if (text.substr(0, kBootstrapPrefix.size()) != kBootstrapPrefix) {
    if (text.substr(0, 8) == "samizdat" && text.find(':') != std::string_view::npos) {
      return bad("is for a different version of samizdat: update the app");
    }
    return bad("must start with '" + std::string(kBootstrapPrefix) +
               "': this is not a samizdat bootstrap string");
  }
  auto decoded = base64url_decode(text.substr(kBootstrapPrefix.size()));
  if (!decoded.ok()) return bad("contains characters that do not belong in it: copy it again");
  const Bytes& bytes = *decoded;
  if (bytes.size() < 1 + 32 + 1 + kChecksumSize) return bad("is too short: copy all of it");
  ByteView body(bytes.data(), bytes.size() - kChecksumSize);
  auto expected = checksum(body);
  if (!equal_constant_time(expected, ByteView(bytes).subspan(body.size()))) {
    return bad("is damaged or incomplete (checksum mismatch): copy it again");
  }
  Reader reader(body);
  auto version = SZ_TRY(reader.u8("version"));
  if (version != kVersion && version != kVersionWithMapRoot && version != kVersionWithChannels) {
    return bad("was made for format version " + std::to_string(version) +
               ", this app reads versions 1 to 3: update the app");
  }
  Bootstrap bootstrap;
  auto key = SZ_TRY(reader.take(32, "operator key"));
  std::copy(key.begin(), key.end(), bootstrap.operator_key.begin());
  if (version >= kVersionWithMapRoot) {
    auto root = SZ_TRY(reader.take(32, "map root key"));
    bootstrap.map_root.emplace();
    std::copy(root.begin(), root.end(), bootstrap.map_root->begin());
  }
  auto count = SZ_TRY(reader.u8("endpoint count"));
  if (count == 0 || count > kMaxBootstrapEndpoints) {
    return bad("lists " + std::to_string(count) + " endpoints (1 to " +
               std::to_string(kMaxBootstrapEndpoints) + " allowed)");
  }
  for (std::size_t i = 0; i < count; ++i) {
    transport::Endpoint endpoint;
    endpoint.scheme = SZ_TRY(reader.str("transport name", 1, 16, false));
    for (char c : endpoint.scheme) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return bad("has an invalid transport name");
    }
    endpoint.host = SZ_TRY(reader.str("host", 1, 255, false));
    auto port = SZ_TRY(reader.take(2, "port"));
    endpoint.port = get_u16_be(port.data());
    if (endpoint.port == 0) return bad("lists port 0 for " + endpoint.host);
    auto server_key = SZ_TRY(reader.take(32, "server key"));
    std::copy(server_key.begin(), server_key.end(), endpoint.server_static.begin());
    auto psk = SZ_TRY(reader.take(32, "endpoint PSK"));
    std::copy(psk.begin(), psk.end(), endpoint.psk.begin());
    auto options = SZ_TRY(reader.u8("option count"));
    std::uint8_t last_tag = 0;
    for (std::size_t j = 0; j < options; ++j) {
      auto tag = SZ_TRY(reader.u8("option tag"));
      if (tag <= last_tag || tag > kShaping) {
        return bad("has an unknown or repeated endpoint option " + std::to_string(tag) + ": update the app");
      }
      last_tag = tag;
      auto value = SZ_TRY(reader.str("endpoint option", 1, 255, tag == kPath));
      if (tag == kPath) {
        if (value.front() != '/') return bad("has a path that does not start with '/'");
        endpoint.path = std::move(value);
      } else if (tag == kSni) {
        endpoint.sni = std::move(value);
      } else if (tag == kHostHeader) {
        endpoint.host_header = std::move(value);
      } else {
        endpoint.shaping = std::move(value);
      }
    }
    bootstrap.endpoints.push_back(std::move(endpoint));
  }
  if (version == kVersionWithChannels) SZ_CHECK(parse_channels(reader, bootstrap));
  if (!reader.done()) return bad("has unexpected bytes after its endpoints");
  return bootstrap;
}

}  // namespace samizdat::reach
