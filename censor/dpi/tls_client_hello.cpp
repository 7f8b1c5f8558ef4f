#include "censor/dpi/tls_client_hello.hpp"

#include <sodium.h>

namespace samizdat::censor {
namespace {

// A bounds-checked cursor: every read either succeeds or marks the reader failed.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  bool u8(std::size_t& out) { return take(1, out); }
  bool u16(std::size_t& out) { return take(2, out); }
  bool u24(std::size_t& out) { return take(3, out); }
  bool skip(std::size_t n) {
    if (data_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  bool sub(std::size_t n, Reader& out) {
    if (data_.size() - pos_ < n) return false;
    out = Reader(data_.subspan(pos_, n));
    pos_ += n;
    return true;
  }
  // Like sub, but allows the inner block to be cut short (first packet of a long hello).
  Reader sub_truncated(std::size_t n) {
    std::size_t k = std::min(n, data_.size() - pos_);
    Reader out(data_.subspan(pos_, k));
    pos_ += k;
    return out;
  }
  [[nodiscard]] std::size_t left() const { return data_.size() - pos_; }
  [[nodiscard]] ByteView rest() const { return data_.subspan(pos_); }

 private:
  bool take(std::size_t n, std::size_t& out) {
    if (data_.size() - pos_ < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) out = (out << 8) | data_[pos_ + i];
    pos_ += n;
    return true;
  }
  ByteView data_;
  std::size_t pos_ = 0;
};

Error malformed(const std::string& what) { return make_error(Errc::malformed, "not a ClientHello: " + what); }

void put16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_extension(Bytes& out, std::uint16_t type, const Bytes& body) {
  put16(out, type);
  put16(out, body.size());
  append(out, body);
}

}  // namespace

Result<std::string> parse_client_hello_sni(ByteView payload) {
  Reader record(payload);
  std::size_t type = 0, version = 0, length = 0;
  if (!record.u8(type) || type != 0x16) return malformed("first byte is not a handshake record");
  if (!record.u16(version) || (version >> 8) != 0x03) return malformed("record version is not 3.x");
  if (!record.u16(length) || length == 0) return malformed("empty record");
  Reader hello = record.sub_truncated(length);
  std::size_t hs_type = 0, hs_length = 0;
  if (!hello.u8(hs_type) || hs_type != 0x01) return malformed("handshake type is not client_hello");
  if (!hello.u24(hs_length)) return malformed("truncated handshake header");
  std::size_t n = 0;
  if (!hello.skip(2 + 32)) return malformed("truncated version/random");
  if (!hello.u8(n) || n > 32 || !hello.skip(n)) return malformed("bad session id");
  if (!hello.u16(n) || n % 2 != 0 || !hello.skip(n)) return malformed("bad cipher suites");
  if (!hello.u8(n) || !hello.skip(n)) return malformed("bad compression methods");
  if (hello.left() == 0) return make_error(Errc::not_found, "ClientHello has no extensions (no SNI)");
  if (!hello.u16(n)) return malformed("truncated extensions length");
  Reader extensions = hello.sub_truncated(n);
  while (extensions.left() >= 4) {
    std::size_t ext_type = 0, ext_length = 0;
    extensions.u16(ext_type);
    extensions.u16(ext_length);
    Reader body(ByteView{});
    if (!extensions.sub(ext_length, body)) return malformed("extension cut short");
    if (ext_type != 0x0000) continue;
    std::size_t list_length = 0, name_type = 0, name_length = 0;
    Reader list(ByteView{});
    if (!body.u16(list_length) || !body.sub(list_length, list)) return malformed("bad server_name list");
    while (list.u8(name_type)) {
      if (!list.u16(name_length) || name_length == 0 || name_length > 255)
        return malformed("bad server name length");
      Reader name(ByteView{});
      if (!list.sub(name_length, name)) return malformed("server name cut short");
      if (name_type != 0) continue;
      std::string out(as_chars(name.rest()));
      for (char& c : out) {
        if (c < 0x21 || c > 0x7e) return malformed("server name has non-printable bytes");
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      return out;
    }
    return make_error(Errc::not_found, "server_name extension has no host name");
  }
  return make_error(Errc::not_found, "ClientHello has no SNI");
}

Bytes build_client_hello(const std::string& server_name) {
  Bytes body;
  put16(body, 0x0303);
  Bytes random(32);
  randombytes_buf(random.data(), random.size());
  append(body, random);
  body.push_back(32);
  Bytes session(32);
  randombytes_buf(session.data(), session.size());
  append(body, session);
  const std::uint16_t suites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8};
  put16(body, sizeof suites);
  for (auto s : suites) put16(body, s);
  body.push_back(1);
  body.push_back(0);

  Bytes extensions;
  if (!server_name.empty()) {
    Bytes sni;
    put16(sni, server_name.size() + 3);
    sni.push_back(0);
    put16(sni, server_name.size());
    append(sni, as_bytes(server_name));
    put_extension(extensions, 0x0000, sni);
  }
  put_extension(extensions, 0x000a, Bytes{0x00, 0x04, 0x00, 0x1d, 0x00, 0x17});              // groups
  put_extension(extensions, 0x000d, Bytes{0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01});  // sig algs
  put_extension(extensions, 0x0010,
                Bytes{0x00, 0x0c, 0x02, 'h', '2', 0x08, 'h', 't', 't', 'p', '/', '1', '.', '1'});
  put_extension(extensions, 0x002b, Bytes{0x04, 0x03, 0x04, 0x03, 0x03});  // supported versions
  Bytes key_share{0x00, 0x24, 0x00, 0x1d, 0x00, 0x20};
  Bytes share(32);
  randombytes_buf(share.data(), share.size());
  append(key_share, share);
  put_extension(extensions, 0x0033, key_share);
  put16(body, extensions.size());
  append(body, extensions);

  Bytes handshake{0x01, static_cast<std::uint8_t>(body.size() >> 16),
                  static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
  append(handshake, body);
  Bytes record{0x16, 0x03, 0x01};
  put16(record, handshake.size());
  append(record, handshake);
  return record;
}

}  // namespace samizdat::censor
