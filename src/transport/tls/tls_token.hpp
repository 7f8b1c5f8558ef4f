// The tls transport's authentication token: what turns an ordinary-looking HTTPS request
// into a Samizdat connection. It rides in a cookie of a WebSocket-upgrade-looking
// request inside TLS, so only the TLS peer sees it:
//   token       = nonce (16 random bytes) || tag (16 bytes), sent as base64url (43 chars)
//   tag         = BLAKE2b-128(key = token_key, "samizdat/tls/token/1" || u64be(window)
//                             || nonce || exporter)
//   token_key   = BLAKE2b-256(key = endpoint PSK, "samizdat/tls/token-key/1")
//   window      = floor(unix seconds / 60); the server accepts windows now-2 .. now+2
//   exporter    = TLS exporter (RFC 8446 7.5), label kExporterLabel, 32 bytes, no context
// The exporter binds the token to this TLS session: a token seen by a TLS-terminating
// middlebox (the client does not check certificates) is useless on any other session,
// and a stale or repeated token gets the cover site like any visitor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/secret.hpp"
#include "transport/endpoint.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::tls {

inline constexpr std::string_view kTokenCookie = "sid";
inline constexpr std::string_view kExporterLabel = "EXPORTER-samizdat-tls-token";
inline constexpr std::size_t kExporterSize = 32;
inline constexpr std::size_t kTokenSize = 32;
inline constexpr std::int64_t kTokenWindowSeconds = 60;
inline constexpr std::int64_t kTokenWindowSlack = 2;  // windows either side of now

crypto::Secret<32> derive_token_key(const Psk& psk);

// A fresh token (base64url) for the window containing `unix_seconds`.
std::string make_token(const crypto::Secret<32>& key, ByteView exporter, std::int64_t unix_seconds);

// Checks a token's text. Returns its raw bytes (for the replay cache) when it is valid
// for a window within the slack of `unix_seconds`; Errc::malformed (not 32 bytes of
// base64url) or Errc::auth_failed (wrong key, session or time) otherwise.
Result<Bytes> check_token(const crypto::Secret<32>& key, std::string_view token, ByteView exporter,
                          std::int64_t unix_seconds);

// The value of cookie `name` in a Cookie header ("a=1; sid=xyz"), if present.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace samizdat::transport::tls
