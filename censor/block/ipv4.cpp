#include "censor/block/ipv4.hpp"

namespace samizdat::censor {
namespace {

std::uint32_t mask_for(int length) { return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length); }

}  // namespace

bool Ipv4Prefix::contains(std::uint32_t other) const { return (other & mask_for(length)) == address; }

bool Ipv4Prefix::contains(const Ipv4Prefix& other) const {
  return other.length >= length && contains(other.address);
}

Ipv4Prefix Ipv4Prefix::widened_to(int new_length) const {
  if (new_length >= length) return *this;
  return {address & mask_for(new_length), new_length};
}

Result<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t out = 0;
  int octets = 0;
  size_t i = 0;
  while (octets < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') break;
    std::uint32_t value = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 4) {
      value = value * 10 + static_cast<std::uint32_t>(text[i] - '0');
      ++i;
      ++digits;
    }
    if (value > 255 || digits > 3) break;
    out = (out << 8) | value;
    ++octets;
    if (octets < 4) {
      if (i >= text.size() || text[i] != '.') break;
      ++i;
    }
  }
  if (octets != 4 || i != text.size()) {
    return make_error(Errc::malformed, "'" + std::string(text.substr(0, 64)) + "' is not an IPv4 address");
  }
  return out;
}

Result<Ipv4Prefix> parse_ipv4_prefix(std::string_view text) {
  size_t slash = text.find('/');
  auto address = SZ_TRY(parse_ipv4(text.substr(0, slash)));
  int length = 32;
  if (slash != std::string_view::npos) {
    auto len_text = text.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 2 ||
        len_text.find_first_not_of("0123456789") != std::string_view::npos) {
      return make_error(Errc::malformed, "'" + std::string(text.substr(0, 64)) + "' has a bad prefix length");
    }
    length = std::stoi(std::string(len_text));
    if (length > 32)
      return make_error(Errc::malformed, "prefix length above 32 in '" + std::string(text) + "'");
  }
  return Ipv4Prefix{address & mask_for(length), length};
}

std::string format_ipv4(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string format_ipv4_prefix(const Ipv4Prefix& prefix) {
  return prefix.length == 32 ? format_ipv4(prefix.address)
                             : format_ipv4(prefix.address) + "/" + std::to_string(prefix.length);
}

}  // namespace samizdat::censor
