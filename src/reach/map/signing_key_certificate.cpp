#include "reach/map/signing_key_certificate.hpp"

#include <algorithm>
#include <string_view>

namespace samizdat::reach {
namespace {

constexpr std::string_view kLabel = "samizdat-map-signing-key-v1";
constexpr std::size_t kEncodedSize = 32 + 8 + 8 + 64;

Bytes signed_bytes(const crypto::Ed25519Public& key, std::uint64_t from, std::uint64_t until) {
  Bytes out = to_bytes(kLabel);
  append(out, key);
  std::uint8_t times[16];
  put_u64_be(times, from);
  put_u64_be(times + 8, until);
  append(out, ByteView(times, sizeof times));
  return out;
}

}  // namespace

Result<SigningKeyCertificate> certify_signing_key(const crypto::Ed25519KeyPair& root,
                                                  const crypto::Ed25519Public& signing_key,
                                                  std::uint64_t valid_from, std::uint64_t valid_until) {
  if (valid_until <= valid_from) {
    return make_error(Errc::invalid_argument, "signing key certificate must end after it starts");
  }
  SigningKeyCertificate certificate;
  certificate.signing_key = signing_key;
  certificate.valid_from = valid_from;
  certificate.valid_until = valid_until;
  certificate.root_signature = root.sign(signed_bytes(signing_key, valid_from, valid_until));
  return certificate;
}

Status verify_signing_key_certificate(const SigningKeyCertificate& certificate,
                                      const crypto::Ed25519Public& root, std::uint64_t now) {
  auto message = signed_bytes(certificate.signing_key, certificate.valid_from, certificate.valid_until);
  if (!crypto::ed25519_verify(root, message, certificate.root_signature).ok()) {
    return make_error(Errc::auth_failed, "signing key certificate is not signed by the pinned root key");
  }
  if (now < certificate.valid_from) {
    return make_error(Errc::auth_failed, "signing key not valid before " +
                                             std::to_string(certificate.valid_from) + " (now " +
                                             std::to_string(now) + "): check the clock");
  }
  if (now >= certificate.valid_until) {
    return make_error(Errc::auth_failed, "signing key expired at " + std::to_string(certificate.valid_until) +
                                             " (now " + std::to_string(now) + ")");
  }
  return {};
}

Bytes encode_signing_key_certificate(const SigningKeyCertificate& certificate) {
  Bytes out(certificate.signing_key.begin(), certificate.signing_key.end());
  std::uint8_t times[16];
  put_u64_be(times, certificate.valid_from);
  put_u64_be(times + 8, certificate.valid_until);
  append(out, ByteView(times, sizeof times));
  append(out, certificate.root_signature);
  return out;
}

Result<SigningKeyCertificate> decode_signing_key_certificate(ByteView bytes) {
  if (bytes.size() != kEncodedSize) {
    return make_error(Errc::malformed, bytes.size() < kEncodedSize
                                           ? "signing key certificate truncated (" +
                                                 std::to_string(bytes.size()) + " of 112 bytes)"
                                           : "signing key certificate has trailing bytes");
  }
  SigningKeyCertificate certificate;
  std::copy_n(bytes.begin(), 32, certificate.signing_key.begin());
  certificate.valid_from = get_u64_be(bytes.data() + 32);
  certificate.valid_until = get_u64_be(bytes.data() + 40);
  std::copy_n(bytes.begin() + 48, 64, certificate.root_signature.begin());
  return certificate;
}

}  // namespace samizdat::reach
