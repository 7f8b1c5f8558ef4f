#include "transport/tls/tls_token.hpp"

#include "crypto/keyed_hash.hpp"
#include "util/encoding.hpp"

namespace samizdat::transport::tls {
namespace {

constexpr std::string_view kKeyContext = "samizdat/tls/token-key/1";
constexpr std::string_view kTagContext = "samizdat/tls/token/1";
constexpr std::size_t kNonceSize = 16;
constexpr std::size_t kTagSize = 16;

std::int64_t window_of(std::int64_t unix_seconds) {
  // Floor division (times before 1970 only appear in tests, but stay consistent).
  return unix_seconds >= 0 ? unix_seconds / kTokenWindowSeconds
                           : -((-unix_seconds + kTokenWindowSeconds - 1) / kTokenWindowSeconds);
}

std::array<std::uint8_t, kTagSize> tag_for(const crypto::Secret<32>& key, std::int64_t window, ByteView nonce,
                                           ByteView exporter) {
  std::array<std::uint8_t, 8> window_bytes{};
  put_u64_be(window_bytes.data(), static_cast<std::uint64_t>(window));
  return crypto::blake2b<kTagSize>(key.view(), {as_bytes(kTagContext), window_bytes, nonce, exporter});
}

}  // namespace

crypto::Secret<32> derive_token_key(const Psk& psk) {
  crypto::Secret<32> key;
  crypto::blake2b(key.mutable_view(), psk, {as_bytes(kKeyContext)});
  return key;
}

std::string make_token(const crypto::Secret<32>& key, ByteView exporter, std::int64_t unix_seconds) {
  Bytes token(kTokenSize);
  crypto::fill_random(std::span<std::uint8_t>(token.data(), kNonceSize));
  auto tag = tag_for(key, window_of(unix_seconds), ByteView(token.data(), kNonceSize), exporter);
  std::copy(tag.begin(), tag.end(), token.begin() + kNonceSize);
  return base64url_encode(token);
}

Result<Bytes> check_token(const crypto::Secret<32>& key, std::string_view token, ByteView exporter,
                          std::int64_t unix_seconds) {
  if (token.size() != 43) return make_error(Errc::malformed, "the token is not 43 characters of base64url");
  auto raw = base64url_decode(token);
  if (!raw.ok() || raw->size() != kTokenSize) {
    return make_error(Errc::malformed, "the token is not 32 bytes of base64url");
  }
  ByteView nonce(raw->data(), kNonceSize);
  ByteView tag(raw->data() + kNonceSize, kTagSize);
  auto now = window_of(unix_seconds);
  bool valid = false;
  // Every window is checked (no early exit), so timing does not tell which one matched.
  for (std::int64_t w = now - kTokenWindowSlack; w <= now + kTokenWindowSlack; ++w) {
    auto expected = tag_for(key, w, nonce, exporter);
    valid |= equal_constant_time(expected, tag);
  }
  if (!valid)
    return make_error(Errc::auth_failed, "the token does not authenticate (wrong PSK, session or time)");
  return std::move(*raw);
}

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return std::nullopt;
}

}  // namespace samizdat::transport::tls
