#include "censor/dpi/fully_encrypted_rule.hpp"

#include <bit>

namespace samizdat::censor {
namespace {

bool printable(std::uint8_t b) { return b >= 0x20 && b <= 0x7e; }

}  // namespace

bool starts_like_tls(ByteView p) {
  return p.size() >= 3 && (p[0] == 0x16 || p[0] == 0x17) && p[1] == 0x03 && p[2] <= 0x09;
}

bool starts_like_http(ByteView p) {
  static constexpr const char* kMethods[] = {"GET ",     "PUT ",     "POST ",  "HEAD ", "DELETE ",
                                             "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "};
  const auto text = as_chars(p);
  for (const char* method : kMethods) {
    if (text.starts_with(method)) return true;
  }
  return false;
}

FullyEncryptedVerdict judge_first_packet(ByteView payload) {
  FullyEncryptedVerdict v;
  if (payload.empty()) {
    // Nothing to judge: the GFW only looks at the first packet that carries data.
    v.exemption = Exemption::ex1_popcount;
    return v;
  }
  std::size_t bits = 0, printable_count = 0, run = 0;
  for (auto b : payload) {
    bits += static_cast<std::size_t>(std::popcount(b));
    if (printable(b)) {
      ++printable_count;
      ++run;
      v.longest_printable_run = std::max(v.longest_printable_run, run);
    } else {
      run = 0;
    }
  }
  v.popcount_per_byte = static_cast<double>(bits) / static_cast<double>(payload.size());
  v.printable_fraction = static_cast<double>(printable_count) / static_cast<double>(payload.size());

  bool prefix_printable = payload.size() >= 6;
  for (std::size_t i = 0; i < 6 && i < payload.size(); ++i)
    prefix_printable = prefix_printable && printable(payload[i]);

  if (v.popcount_per_byte <= 3.4 || v.popcount_per_byte >= 4.6) {
    v.exemption = Exemption::ex1_popcount;
  } else if (prefix_printable) {
    v.exemption = Exemption::ex2_printable_prefix;
  } else if (v.printable_fraction > 0.5) {
    v.exemption = Exemption::ex3_mostly_printable;
  } else if (v.longest_printable_run > 20) {
    v.exemption = Exemption::ex4_printable_run;
  } else if (starts_like_tls(payload) || starts_like_http(payload)) {
    v.exemption = Exemption::ex5_protocol;
  } else {
    v.suspect = true;
  }
  return v;
}

std::string to_string(Exemption exemption) {
  switch (exemption) {
    case Exemption::none:
      return "none";
    case Exemption::ex1_popcount:
      return "Ex1 popcount";
    case Exemption::ex2_printable_prefix:
      return "Ex2 printable prefix";
    case Exemption::ex3_mostly_printable:
      return "Ex3 mostly printable";
    case Exemption::ex4_printable_run:
      return "Ex4 printable run";
    case Exemption::ex5_protocol:
      return "Ex5 TLS/HTTP";
  }
  return "unknown";
}

}  // namespace samizdat::censor
