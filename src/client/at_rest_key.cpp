#include "client/at_rest_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace samizdat::client {
namespace {

constexpr std::uint8_t kSealVersion = 1;
constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;

Bytes associated_data(std::string_view label) {
  Bytes ad = to_bytes("samizdat-client-at-rest-v1:");
  append(ad, as_bytes(label));
  return ad;
}

Error io_error(const std::filesystem::path& path, std::string_view doing) {
  return make_error(Errc::io, std::string(doing) + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

std::string_view to_string(KeySource source) {
  return source == KeySource::passphrase ? "passphrase" : "key-file";
}

Result<AtRestKey> AtRestKey::create(const std::filesystem::path& key_file,
                                    const std::optional<std::string>& passphrase,
                                    AtRestKeyParams& params_out) {
  crypto::ensure_initialized();
  AtRestKey key;
  if (passphrase) {
    if (passphrase->empty()) {
      return make_error(Errc::invalid_argument,
                        "SAMIZDAT_PASSPHRASE is set but empty: set a passphrase or unset it");
    }
    params_out.source = KeySource::passphrase;
    params_out.salt = crypto::random_bytes(crypto_pwhash_SALTBYTES);
    params_out.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    params_out.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    return load(key_file, passphrase, params_out);
  }
  params_out = AtRestKeyParams{};
  crypto::fill_random({key.key_.data(), 32});
  int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return make_error(Errc::already_exists,
                        "key file " + key_file.string() + " already exists: remove it or use another --home");
    }
    return io_error(key_file, "cannot create key file");
  }
  bool ok = ::write(fd, key.key_.data(), 32) == 32 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return io_error(key_file, "cannot write key file");
  return key;
}

Result<AtRestKey> AtRestKey::load(const std::filesystem::path& key_file,
                                  const std::optional<std::string>& passphrase,
                                  const AtRestKeyParams& params) {
  crypto::ensure_initialized();
  AtRestKey key;
  if (params.source == KeySource::passphrase) {
    if (!passphrase || passphrase->empty()) {
      return make_error(Errc::invalid_argument,
                        "this account's secrets are protected by a passphrase: set SAMIZDAT_PASSPHRASE");
    }
    if (params.salt.size() != crypto_pwhash_SALTBYTES) {
      return make_error(Errc::malformed, "the account database has a damaged key salt");
    }
    if (crypto_pwhash(key.key_.data(), 32, passphrase->data(), passphrase->size(), params.salt.data(),
                      params.opslimit, params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return make_error(Errc::unavailable, "not enough memory to derive the key from the passphrase");
    }
    return key;
  }
  int fd = ::open(key_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(Errc::io,
                      "cannot open the key file " + key_file.string() + ": " + std::strerror(errno) +
                          " (it holds the key to this account's secrets; restore it from a backup)");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return make_error(Errc::io, "the key file " + key_file.string() +
                                    " is readable by other users: run chmod 600 on it, then retry");
  }
  ssize_t n = ::read(fd, key.key_.data(), 32);
  ::close(fd);
  if (n != 32) return make_error(Errc::io, "the key file " + key_file.string() + " is truncated");
  return key;
}

Bytes AtRestKey::seal(ByteView plaintext, std::string_view label) const {
  Bytes ad = associated_data(label);
  Bytes out(1 + kNonceSize + plaintext.size() + kTagSize);
  out[0] = kSealVersion;
  crypto::fill_random({out.data() + 1, kNonceSize});
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 1 + kNonceSize, &written, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr, out.data() + 1,
                                             key_.data());
  return out;
}

Result<crypto::SecretBytes> AtRestKey::open(ByteView sealed, std::string_view label) const {
  if (sealed.size() < 1 + kNonceSize + kTagSize || sealed[0] != kSealVersion) {
    return make_error(Errc::malformed,
                      "a sealed record in the account database is damaged (" + std::string(label) + ")");
  }
  Bytes ad = associated_data(label);
  crypto::SecretBytes out(sealed.size() - 1 - kNonceSize - kTagSize);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &written, nullptr, sealed.data() + 1 + kNonceSize, sealed.size() - 1 - kNonceSize,
          ad.data(), ad.size(), sealed.data() + 1, key_.data()) != 0) {
    return make_error(Errc::auth_failed, "cannot decrypt the account's secrets (" + std::string(label) +
                                             "): wrong passphrase or key file, or the database was altered");
  }
  return out;
}

}  // namespace samizdat::client
