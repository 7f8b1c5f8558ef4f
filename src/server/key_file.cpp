#include "server/key_file.hpp"

#include <sodium.h>

#include <cctype>

#include "util/encoding.hpp"
#include "util/file.hpp"

namespace samizdat::server {

Status create_key_folders(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  if (ec) return make_error(Errc::io, "cannot create " + (dir / "keys").string() + ": " + ec.message());
  for (const auto& folder : {dir, dir / "keys"}) {
    fs::permissions(folder, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
      return make_error(Errc::io, "cannot make " + folder.string() + " private (mode 0700): " + ec.message());
    }
  }
  return {};
}

void wipe(Bytes& bytes) { sodium_memzero(bytes.data(), bytes.size()); }

Result<Bytes> read_hex_file(const std::filesystem::path& file, std::size_t size) {
  auto content = SZ_TRY(read_file(file));
  std::string_view text = as_chars(content);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  auto decoded = hex_decode(text);
  wipe(content);
  if (!decoded.ok() || decoded->size() != size) {
    if (decoded.ok()) wipe(*decoded);
    return make_error(Errc::invalid_argument, file.string() + " does not hold " + std::to_string(size) +
                                                  " bytes in hex: restore it from a backup");
  }
  return std::move(*decoded);
}

Status write_secret_hex_file(const std::filesystem::path& file, ByteView key) {
  std::string text = hex_encode(key);
  text += '\n';
  auto written = write_secret_file(file, as_bytes(text));
  sodium_memzero(text.data(), text.size());
  return written;
}

Status write_public_hex_file(const std::filesystem::path& file, ByteView bytes) {
  return write_file_atomically(file, as_bytes(hex_encode(bytes) + "\n"));
}

}  // namespace samizdat::server
