// The tls listener's token check: a Cookie header from an HTTP request inside TLS,
// searched for the token cookie, which is then decoded and checked against a fixed key,
// session exporter and time. Must never crash; a match on random input would be a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/secret.hpp"
#include "transport/tls/tls_token.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto key = [] {
    crypto::ensure_initialized();
    transport::Psk psk{};
    psk.fill(0x17);
    return transport::tls::derive_token_key(psk);
  }();
  static const Bytes exporter(32, 0x5a);
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto cookie = transport::tls::find_cookie(header, transport::tls::kTokenCookie);
  if (!cookie) return 0;
  auto checked = transport::tls::check_token(key, *cookie, exporter, 1'800'000'000);
  if (checked.ok() && checked->size() != transport::tls::kTokenSize) std::abort();
  return 0;
}
