// Text encodings of bytes: hex (logs, tests), base32 (addresses people type),
// base64url (bootstrap strings, invites, network maps).
#pragma once

#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat {

std::string hex_encode(ByteView bytes);
Result<Bytes> hex_decode(std::string_view text);

// RFC 4648 base32, lower case, no padding. Decoding accepts either case and
// ignores '-' so grouped addresses ("abcd-efgh") round-trip.
std::string base32_encode(ByteView bytes);
Result<Bytes> base32_decode(std::string_view text);

// RFC 4648 section 5 base64url, no padding.
std::string base64url_encode(ByteView bytes);
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace samizdat
