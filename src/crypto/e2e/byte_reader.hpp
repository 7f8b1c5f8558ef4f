// Internal: a strict cursor over untrusted bytes for the hand-written e2e formats.
// Every read checks bounds; finish() insists that nothing is left over.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "util/bytes.hpp"

namespace samizdat::crypto::e2e {

class ByteReader {
 public:
  explicit ByteReader(ByteView bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }

  bool read_u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = bytes_[pos_++];
    return true;
  }
  bool read_u32(std::uint32_t& out) {
    if (remaining() < 4) return false;
    out = get_u32_be(bytes_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool read_u64(std::uint64_t& out) {
    if (remaining() < 8) return false;
    out = get_u64_be(bytes_.data() + pos_);
    pos_ += 8;
    return true;
  }
  template <std::size_t N>
  bool read_array(std::array<std::uint8_t, N>& out) {
    if (remaining() < N) return false;
    std::copy_n(bytes_.data() + pos_, N, out.begin());
    pos_ += N;
    return true;
  }
  // A view of the next n bytes (into the caller's buffer).
  bool read_view(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  ByteView rest() {
    ByteView out = bytes_.subspan(pos_);
    pos_ = bytes_.size();
    return out;
  }

 private:
  ByteView bytes_;
  std::size_t pos_ = 0;
};

inline void put_u32(Bytes& out, std::uint32_t v) {
  std::uint8_t b[4];
  put_u32_be(b, v);
  out.insert(out.end(), b, b + 4);
}
inline void put_u64(Bytes& out, std::uint64_t v) {
  std::uint8_t b[8];
  put_u64_be(b, v);
  out.insert(out.end(), b, b + 8);
}

}  // namespace samizdat::crypto::e2e
