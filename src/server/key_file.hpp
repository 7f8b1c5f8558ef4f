// The server and relay directories keep each key (and each small public value such as the
// map root or the signing-key certificate) as one line of hex in a file of its own.
#pragma once

#include <algorithm>
#include <array>
#include <filesystem>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::server {

// Creates `dir` and `dir/keys`, both readable by their owner only (0700). Errc::io naming
// the folder if either cannot be created or restricted.
Status create_key_folders(const std::filesystem::path& dir);

// Zeroes a buffer that held key material.
void wipe(Bytes& bytes);

// Exactly `size` bytes from a hex file (surrounding whitespace ignored). Errc::not_found if it
// is missing; Errc::invalid_argument "... restore it from a backup" if it holds anything else.
Result<Bytes> read_hex_file(const std::filesystem::path& file, std::size_t size);

template <std::size_t N>
Result<std::array<std::uint8_t, N>> read_hex_file(const std::filesystem::path& file) {
  auto bytes = SZ_TRY(read_hex_file(file, N));
  std::array<std::uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  wipe(bytes);
  return out;
}

// Writes a key as hex: readable by its owner only (mode 0600 from the moment it exists).
Status write_secret_hex_file(const std::filesystem::path& file, ByteView key);
// Writes a public value as hex (mode 0644).
Status write_public_hex_file(const std::filesystem::path& file, ByteView bytes);

}  // namespace samizdat::server
