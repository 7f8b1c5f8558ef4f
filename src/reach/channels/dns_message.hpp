// The two DNS messages the TXT channel needs (RFC 1035): a recursive TXT query for one
// name, and the TXT answers out of a response. Strict bounds checks: responses come from
// the network and may be forged or junk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

// Errc::invalid_argument for names that cannot be encoded (empty label, label > 63, > 253).
Result<Bytes> encode_txt_query(std::string_view name, std::uint16_t id);

struct TxtResponse {
  bool truncated = false;            // TC bit: ask again over TCP
  std::vector<std::string> records;  // each TXT record's character-strings concatenated
};

// Errc::malformed (short, bad pointers, not a response to `id`), Errc::not_found (NXDOMAIN),
// Errc::network (SERVFAIL, REFUSED, other rcodes).
Result<TxtResponse> parse_txt_response(ByteView message, std::uint16_t id);

}  // namespace samizdat::reach
