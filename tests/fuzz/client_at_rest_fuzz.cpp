// Sealed records come back from the account database on disk, which may be damaged or
// tampered with: opening junk must fail cleanly, never crash or accept it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "client/at_rest_key.hpp"

namespace {

const samizdat::client::AtRestKey& key() {
  static const samizdat::client::AtRestKey instance = [] {
    auto path = std::filesystem::temp_directory_path() / ("sz-fuzz-key-" + std::to_string(::getpid()));
    std::filesystem::remove(path);
    samizdat::client::AtRestKeyParams params;
    auto created = samizdat::client::AtRestKey::create(path, std::nullopt, params);
    std::filesystem::remove(path);
    if (!created.ok()) __builtin_trap();
    return std::move(*created);
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  samizdat::ByteView input(data, size);
  auto opened = key().open(input, "session:fuzz");
  if (opened.ok()) __builtin_trap();  // a forgery without the key
  // Round trip of the input as plaintext.
  auto sealed = key().seal(input, "spk:1");
  auto back = key().open(sealed, "spk:1");
  if (!back.ok() || back->size() != size) __builtin_trap();
  if (key().open(sealed, "spk:2").ok()) __builtin_trap();  // bound to its label
  return 0;
}
