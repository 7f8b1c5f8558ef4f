// Byte buffers and views used on every data path.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samizdat {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using MutableByteView = std::span<std::uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_chars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline Bytes to_bytes(std::string_view text) {
  auto view = as_bytes(text);
  return {view.begin(), view.end()};
}
inline Bytes to_bytes(ByteView view) { return {view.begin(), view.end()}; }

inline void append(Bytes& out, ByteView tail) { out.insert(out.end(), tail.begin(), tail.end()); }

// Constant-time comparison; use for anything derived from a secret.
bool equal_constant_time(ByteView a, ByteView b);

// Big-endian integer helpers for hand-written wire formats.
inline void put_u16_be(std::uint8_t* out, std::uint16_t v) {
  out[0] = static_cast<std::uint8_t>(v >> 8);
  out[1] = static_cast<std::uint8_t>(v);
}
inline std::uint16_t get_u16_be(const std::uint8_t* in) {
  return static_cast<std::uint16_t>((in[0] << 8) | in[1]);
}
inline void put_u32_be(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
inline std::uint32_t get_u32_be(const std::uint8_t* in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) | in[3];
}
inline void put_u64_be(std::uint8_t* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}
inline std::uint64_t get_u64_be(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

// Appending forms, for formats built up in a Bytes (read back with util/byte_reader.hpp).
inline void append_u16_be(Bytes& out, std::uint16_t v) {
  std::uint8_t b[2];
  put_u16_be(b, v);
  out.insert(out.end(), b, b + 2);
}
inline void append_u32_be(Bytes& out, std::uint32_t v) {
  std::uint8_t b[4];
  put_u32_be(b, v);
  out.insert(out.end(), b, b + 4);
}
inline void append_u64_be(Bytes& out, std::uint64_t v) {
  std::uint8_t b[8];
  put_u64_be(b, v);
  out.insert(out.end(), b, b + 8);
}

}  // namespace samizdat
