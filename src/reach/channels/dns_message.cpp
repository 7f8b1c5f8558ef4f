#include "reach/channels/dns_message.hpp"

namespace samizdat::reach {
namespace {

constexpr std::uint16_t kTypeTxt = 16;
constexpr std::uint16_t kClassIn = 1;

Error bad(const std::string& what) { return make_error(Errc::malformed, "DNS response " + what); }

// Skips an encoded (possibly compressed) name starting at `offset`; returns the offset after it.
Result<std::size_t> skip_name(ByteView message, std::size_t offset) {
  for (int labels = 0; labels < 128; ++labels) {
    if (offset >= message.size()) return bad("truncated inside a name");
    std::uint8_t length = message[offset];
    if ((length & 0xC0) == 0xC0) {
      if (offset + 2 > message.size()) return bad("truncated inside a name pointer");
      return offset + 2;
    }
    if ((length & 0xC0) != 0) return bad("uses an unknown label type");
    if (length == 0) return offset + 1;
    offset += 1 + length;
  }
  return bad("has a name with too many labels");
}

}  // namespace

Result<Bytes> encode_txt_query(std::string_view name, std::uint16_t id) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253)
    return make_error(Errc::invalid_argument, "DNS name must be 1 to 253 characters");
  Bytes out(12, 0);
  put_u16_be(out.data(), id);
  out[2] = 0x01;  // RD: ask the resolver to recurse
  out[5] = 1;     // QDCOUNT
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    auto label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63) {
      return make_error(Errc::invalid_argument,
                        "DNS name '" + std::string(name) + "' has an empty or too long label");
    }
    out.push_back(static_cast<std::uint8_t>(label.size()));
    append(out, as_bytes(label));
    start = dot + 1;
  }
  out.push_back(0);
  std::uint8_t tail[4];
  put_u16_be(tail, kTypeTxt);
  put_u16_be(tail + 2, kClassIn);
  append(out, ByteView(tail, 4));
  return out;
}

Result<TxtResponse> parse_txt_response(ByteView message, std::uint16_t id) {
  if (message.size() < 12) return bad("shorter than its header");
  if (get_u16_be(message.data()) != id) return bad("answers another query (id mismatch)");
  std::uint8_t flags = message[2];
  if ((flags & 0x80) == 0) return bad("is a query, not a response");
  TxtResponse out;
  out.truncated = (flags & 0x02) != 0;
  std::uint8_t rcode = message[3] & 0x0F;
  if (rcode == 3) return make_error(Errc::not_found, "DNS name does not exist (NXDOMAIN)");
  if (rcode != 0)
    return make_error(Errc::network, "DNS resolver answered with error code " + std::to_string(rcode));
  std::uint16_t questions = get_u16_be(message.data() + 4);
  std::uint16_t answers = get_u16_be(message.data() + 6);
  std::size_t offset = 12;
  for (std::uint16_t i = 0; i < questions; ++i) {
    offset = SZ_TRY(skip_name(message, offset));
    if (offset + 4 > message.size()) return bad("truncated inside a question");
    offset += 4;
  }
  for (std::uint16_t i = 0; i < answers; ++i) {
    offset = SZ_TRY(skip_name(message, offset));
    if (offset + 10 > message.size()) {
      if (out.truncated) break;  // a truncated UDP answer may end anywhere: TCP will redo it
      return bad("truncated inside an answer");
    }
    std::uint16_t type = get_u16_be(message.data() + offset);
    std::uint16_t klass = get_u16_be(message.data() + offset + 2);
    std::uint16_t length = get_u16_be(message.data() + offset + 8);
    offset += 10;
    if (offset + length > message.size()) {
      if (out.truncated) break;
      return bad("truncated inside answer data");
    }
    if (type == kTypeTxt && klass == kClassIn) {
      std::string text;
      std::size_t at = offset;
      while (at < offset + length) {
        std::size_t piece = message[at];
        if (at + 1 + piece > offset + length) return bad("has a TXT string that overruns its record");
        text.append(reinterpret_cast<const char*>(message.data() + at + 1), piece);
        at += 1 + piece;
      }
      out.records.push_back(std::move(text));
    }
    offset += length;
  }
  return out;
}

}  // namespace samizdat::reach
