// A strict cursor over untrusted bytes, for the hand-written binary formats (e2e messages,
// session state, certificates). Every read checks bounds and returns a Result, so a parser
// reads as a list of fields: `auto id = SZ_TRY(reader.u32("signed prekey id"));`.
// Errors are Errc::malformed and name the record and the field:
//   "ratchet message is truncated (it ends inside the signed prekey id)".
// Writing: util/bytes.hpp (append, append_u32_be, ...).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat {

class ByteReader {
 public:
  // `subject` names the whole record in errors ("ratchet message"); it must outlive the reader
  // (a string literal).
  ByteReader(ByteView bytes, std::string_view subject) : bytes_(bytes), subject_(subject) {}

  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }
  [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }

  // The next n bytes, as a view into the caller's buffer.
  Result<ByteView> bytes(std::size_t n, std::string_view field) {
    if (remaining() < n) return truncated(field);
    ByteView out = bytes_.subspan(position_, n);
    position_ += n;
    return out;
  }
  Result<std::uint8_t> u8(std::string_view field) {
    if (remaining() < 1) return truncated(field);
    return bytes_[position_++];
  }
  Result<std::uint16_t> u16(std::string_view field) {
    if (remaining() < 2) return truncated(field);
    return get_u16_be(advance(2));
  }
  Result<std::uint32_t> u32(std::string_view field) {
    if (remaining() < 4) return truncated(field);
    return get_u32_be(advance(4));
  }
  Result<std::uint64_t> u64(std::string_view field) {
    if (remaining() < 8) return truncated(field);
    return get_u64_be(advance(8));
  }
  template <std::size_t N>
  Result<std::array<std::uint8_t, N>> array(std::string_view field) {
    if (remaining() < N) return truncated(field);
    std::array<std::uint8_t, N> out{};
    std::copy_n(advance(N), N, out.begin());
    return out;
  }
  // Everything not read yet (possibly empty); the reader is then at its end.
  ByteView rest() {
    ByteView out = bytes_.subspan(position_);
    position_ = bytes_.size();
    return out;
  }
  // Errc::malformed "<subject> has N trailing bytes" unless everything was read.
  [[nodiscard]] Status finish() const {
    if (at_end()) return {};
    return make_error(Errc::malformed,
                      std::string(subject_) + " has " + std::to_string(remaining()) + " trailing bytes");
  }

 private:
  const std::uint8_t* advance(std::size_t n) {
    const std::uint8_t* at = bytes_.data() + position_;
    position_ += n;
    return at;
  }
  [[nodiscard]] Error truncated(std::string_view field) const {
    return make_error(Errc::malformed, std::string(subject_) + " is truncated (it ends inside the " +
                                           std::string(field) + ")");
  }

  ByteView bytes_;
  std::string_view subject_;
  std::size_t position_ = 0;
};

}  // namespace samizdat
