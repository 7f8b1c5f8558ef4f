// Test helper: the GFW's exemption rules for "fully encrypted" first packets (Wu et al.,
// "How the Great Firewall of China Detects and Blocks Fully Encrypted Traffic", USENIX
// Security 2023, Algorithm 1), reporting every rule that applies (the censor testbed's
// censor/dpi/fully_encrypted_rule.* reports only the first; this one is header-only so
// transport tests need not link the testbed). A first packet is exempt if ANY applies:
//   Ex1 mean popcount per byte <= 3.4 or >= 4.6
//   Ex2 the first 6 bytes are printable ASCII (0x20-0x7e)
//   Ex3 more than 50% of the bytes are printable
//   Ex4 more than 20 contiguous printable bytes
//   Ex5 starts like TLS ([16-17] 03 [00-09]) or an HTTP request method
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <string_view>

#include "util/bytes.hpp"

namespace samizdat::testing {

struct FullyEncryptedJudgement {
  bool ex1 = false, ex2 = false, ex3 = false, ex4 = false, ex5 = false;
  double popcount_per_byte = 0;
  double printable_fraction = 0;
  std::size_t longest_printable_run = 0;
  [[nodiscard]] bool exempt() const { return ex1 || ex2 || ex3 || ex4 || ex5; }
};

inline bool is_printable(std::uint8_t b) { return b >= 0x20 && b <= 0x7e; }

inline FullyEncryptedJudgement judge_fully_encrypted(ByteView p) {
  FullyEncryptedJudgement j;
  if (p.empty()) return j;
  std::size_t bits = 0, printable = 0, run = 0;
  for (auto b : p) {
    bits += static_cast<std::size_t>(std::popcount(b));
    if (is_printable(b)) {
      ++printable;
      j.longest_printable_run = std::max(j.longest_printable_run, ++run);
    } else {
      run = 0;
    }
  }
  j.popcount_per_byte = static_cast<double>(bits) / static_cast<double>(p.size());
  j.printable_fraction = static_cast<double>(printable) / static_cast<double>(p.size());
  j.ex1 = j.popcount_per_byte <= 3.4 || j.popcount_per_byte >= 4.6;
  j.ex2 = p.size() >= 6 && std::all_of(p.begin(), p.begin() + 6, is_printable);
  j.ex3 = j.printable_fraction > 0.5;
  j.ex4 = j.longest_printable_run > 20;
  bool tls = p.size() >= 3 && (p[0] == 0x16 || p[0] == 0x17) && p[1] == 0x03 && p[2] <= 0x09;
  bool http = false;
  auto text = as_chars(p);
  for (std::string_view method :
       {"GET ", "PUT ", "POST ", "HEAD ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "}) {
    http = http || text.starts_with(method);
  }
  j.ex5 = tls || http;
  return j;
}

}  // namespace samizdat::testing
