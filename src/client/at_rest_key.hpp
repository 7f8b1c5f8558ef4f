// The key that encrypts the account's secrets at rest (identity key, device key, prekey
// secrets, ratchet sessions) inside the account database.
//
// Source: with a passphrase (SAMIZDAT_PASSPHRASE) the key is Argon2id(passphrase, salt)
// (libsodium crypto_pwhash, "interactive" limits); without one it is 32 random bytes in a
// key file (mode 0600) next to the database. Records are sealed with
// XChaCha20-Poly1305: version(1) || nonce(24) || ciphertext, with the record's label as
// associated data, so a record copied into another row does not open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::client {

enum class KeySource { key_file, passphrase };
std::string_view to_string(KeySource source);

// What the database remembers about the key (never the key itself).
struct AtRestKeyParams {
  KeySource source = KeySource::key_file;
  Bytes salt;  // passphrase only
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;
};

class AtRestKey {
 public:
  // A new key: from the passphrase when given, else a fresh key file (Errc::already_exists
  // if one is there, Errc::io if it cannot be written).
  static Result<AtRestKey> create(const std::filesystem::path& key_file,
                                  const std::optional<std::string>& passphrase, AtRestKeyParams& params_out);
  // The existing key. Errc::invalid_argument if the account needs a passphrase and none is
  // given, Errc::io if the key file is missing or unreadable, or has a loose mode.
  static Result<AtRestKey> load(const std::filesystem::path& key_file,
                                const std::optional<std::string>& passphrase, const AtRestKeyParams& params);

  Bytes seal(ByteView plaintext, std::string_view label) const;
  // Errc::auth_failed when the key is wrong or the record was altered or moved.
  Result<crypto::SecretBytes> open(ByteView sealed, std::string_view label) const;

 private:
  AtRestKey() = default;
  crypto::LockedSecret<32> key_;
};

}  // namespace samizdat::client
