// Signed network map parsing (src/reach/map/signed_map.hpp): arbitrary bytes from any
// channel must give a map or a clear error, never a crash; the same bytes are also tried
// as an import string and as an operator draft. Whatever parses re-signs to a parseable map.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reach/map/map_body_codec.hpp"
#include "reach/map/signed_map.hpp"

using namespace samizdat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView bytes(data, size);
  static const auto root = crypto::Ed25519KeyPair::from_seed(Bytes(32, 1));
  static const auto signing = crypto::Ed25519KeyPair::from_seed(Bytes(32, 2));
  static const auto certificate = *reach::certify_signing_key(root, signing.public_key, 0, ~0ULL);

  auto parsed = reach::parse_signed_map(bytes);
  if (!parsed.ok() && parsed.error().message.empty()) std::abort();
  auto verified = reach::accept_map(nullptr, bytes, root.public_key, 1'800'000'000);
  if (verified.ok() && !parsed.ok()) std::abort();
  if (parsed.ok()) {
    auto resigned = reach::sign_map(parsed->map, certificate, signing);
    if (resigned.ok()) {
      auto again = reach::verify_map(*resigned, root.public_key, parsed->map.issued_at);
      if (!again.ok() && parsed->map.expires_at > parsed->map.issued_at) std::abort();
    }
  }
  auto imported = reach::parse_map_import(as_chars(bytes));
  if (imported.ok()) (void)reach::parse_signed_map(*imported);
  auto draft = reach::decode_map_draft(bytes);
  if (draft.ok()) (void)reach::encode_map_draft(*draft);
  (void)reach::decode_signing_key_certificate(bytes);
  return 0;
}
