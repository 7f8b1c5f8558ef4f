#include "transport/relay/relay_link.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/keyed_hash.hpp"
#include "util/encoding.hpp"

namespace samizdat::transport {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kChecksumLabel = "samizdat-relay-link-v1";
constexpr std::size_t kChecksumSize = 4;
constexpr std::size_t kMaxText = 8192;
constexpr std::size_t kMaxUri = 2048;

std::array<std::uint8_t, kChecksumSize> checksum(ByteView body) {
  auto digest = crypto::blake2b<32>({}, {as_bytes(kChecksumLabel), body});
  std::array<std::uint8_t, kChecksumSize> out{};
  std::copy_n(digest.begin(), kChecksumSize, out.begin());
  return out;
}

Error bad(const std::string& message) { return make_error(Errc::invalid_argument, "relay link " + message); }

std::string uri_of(const Endpoint& endpoint) {
  std::string uri = endpoint.to_uri_with_keys();
  if (!endpoint.sni.empty()) uri += "&sni=" + endpoint.sni;
  if (!endpoint.host_header.empty()) uri += "&host=" + endpoint.host_header;
  return uri;
}

}  // namespace

Result<std::string> encode_relay_link(const RelayLink& link) {
  if (link.endpoints.empty()) return bad("needs at least one endpoint");
  if (link.endpoints.size() > kMaxRelayLinkEndpoints) {
    return bad("can hold at most " + std::to_string(kMaxRelayLinkEndpoints) + " endpoints");
  }
  Bytes body{kVersion, static_cast<std::uint8_t>(link.endpoints.size())};
  for (const auto& endpoint : link.endpoints) {
    if (endpoint.host.empty()) return bad("endpoint has no host");
    auto uri = uri_of(endpoint);
    if (uri.size() > kMaxUri) return bad("endpoint URI is longer than " + std::to_string(kMaxUri));
    std::uint8_t length[2];
    put_u16_be(length, static_cast<std::uint16_t>(uri.size()));
    append(body, ByteView(length, 2));
    append(body, as_bytes(uri));
  }
  auto sum = checksum(body);
  append(body, sum);
  return std::string(kRelayLinkPrefix) + base64url_encode(body);
}

Result<RelayLink> parse_relay_link(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() > kMaxText) return bad("is too long to be a relay link");
  if (!text.starts_with(kRelayLinkPrefix)) {
    if (text.starts_with("samizdat-relay")) return bad("is made for a newer version: update the app");
    return bad("must start with '" + std::string(kRelayLinkPrefix) + "' (is this a relay link?)");
  }
  auto decoded = base64url_decode(text.substr(kRelayLinkPrefix.size()));
  if (!decoded.ok()) return bad("is damaged (not base64url): copy it again");
  ByteView bytes(*decoded);
  if (bytes.size() < 2 + kChecksumSize) return bad("is incomplete: copy it again");
  ByteView body = bytes.first(bytes.size() - kChecksumSize);
  auto expected = checksum(body);
  if (!equal_constant_time(bytes.last(kChecksumSize), expected)) return bad("is damaged: copy it again");
  if (body[0] != kVersion) return bad("is made for a newer version: update the app");
  std::size_t count = body[1];
  if (count == 0 || count > kMaxRelayLinkEndpoints) {
    return bad("lists " + std::to_string(count) + " endpoints (1.." + std::to_string(kMaxRelayLinkEndpoints) +
               " allowed)");
  }
  RelayLink link;
  std::size_t offset = 2;
  for (std::size_t i = 0; i < count; ++i) {
    if (body.size() - offset < 2) return bad("is incomplete (it ends inside an endpoint)");
    std::size_t length = get_u16_be(body.data() + offset);
    offset += 2;
    if (length == 0 || length > kMaxUri || body.size() - offset < length) {
      return bad("is incomplete or has an endpoint of impossible length");
    }
    auto uri = as_chars(body.subspan(offset, length));
    offset += length;
    auto endpoint = parse_endpoint_uri(uri);
    if (!endpoint.ok()) return bad("has a bad endpoint: " + endpoint.error().message);
    link.endpoints.push_back(std::move(*endpoint));
  }
  if (offset != body.size()) return bad("has trailing bytes: copy it again");
  return link;
}

}  // namespace samizdat::transport
