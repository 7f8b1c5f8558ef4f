// The GFW's rule for "fully encrypted" first packets (Wu et al., "How the Great
// Firewall of China Detects and Blocks Fully Encrypted Traffic", USENIX Security
// 2023, Algorithm 1): a TCP connection's first client payload is exempt from
// blocking if ANY of these holds, and suspect otherwise:
//   Ex1  average popcount per byte <= 3.4 or >= 4.6
//   Ex2  the first 6 bytes are printable ASCII (0x20-0x7e)
//   Ex3  more than 50% of the bytes are printable ASCII
//   Ex4  more than 20 contiguous printable ASCII bytes
//   Ex5  the payload starts like TLS or HTTP
// A pure function: no state, no randomness (the blocking probability is applied by the caller).
#pragma once

#include <string>

#include "util/bytes.hpp"

namespace samizdat::censor {

enum class Exemption {
  none,
  ex1_popcount,
  ex2_printable_prefix,
  ex3_mostly_printable,
  ex4_printable_run,
  ex5_protocol
};

struct FullyEncryptedVerdict {
  bool suspect = false;                   // no exemption applied: the GFW would block (with some probability)
  Exemption exemption = Exemption::none;  // the first exemption that applied
  double popcount_per_byte = 0;
  double printable_fraction = 0;
  std::size_t longest_printable_run = 0;
};

FullyEncryptedVerdict judge_first_packet(ByteView payload);

std::string to_string(Exemption exemption);

// Ex5's fingerprints: a TLS record header ([\x16-\x17] \x03 [\x00-\x09]) or an HTTP request method.
bool starts_like_tls(ByteView payload);
bool starts_like_http(ByteView payload);

}  // namespace samizdat::censor
