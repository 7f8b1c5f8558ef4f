#include "crypto/e2e/sender_certificate.hpp"

#include <string_view>

#include "util/byte_reader.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::uint8_t kCertificateVersion = 1;
constexpr std::string_view kSignatureDomain = "Samizdat_SenderCertificate_v1";
constexpr std::size_t kSignedSize = 1 + 32 + 4 + 8;

Bytes signed_part(const SenderCertificate& certificate) {
  Bytes out;
  out.reserve(kSignedSize + certificate.signature.size());
  out.push_back(kCertificateVersion);
  append(out, certificate.sender_identity);
  append_u32_be(out, certificate.sender_device_id);
  append_u64_be(out, static_cast<std::uint64_t>(certificate.expires_unix_ms));
  return out;
}

Bytes signing_message(const SenderCertificate& certificate) {
  Bytes message;
  message.reserve(kSignatureDomain.size() + kSignedSize);
  append(message, as_bytes(kSignatureDomain));
  append(message, signed_part(certificate));
  return message;
}

}  // namespace

SenderCertificate SenderCertificate::issue(const Ed25519KeyPair& server_certificate_key,
                                           const Ed25519Public& sender_identity, DeviceId sender_device_id,
                                           std::int64_t expires_unix_ms) {
  SenderCertificate certificate{sender_identity, sender_device_id, expires_unix_ms, {}};
  certificate.signature = server_certificate_key.sign(signing_message(certificate));
  return certificate;
}

Bytes SenderCertificate::encode() const {
  Bytes out = signed_part(*this);
  append(out, signature);
  return out;
}

Result<SenderCertificate> SenderCertificate::parse(ByteView bytes) {
  if (bytes.size() != kSenderCertificateSize) {
    return make_error(Errc::malformed, "sender certificate has " + std::to_string(bytes.size()) +
                                           " bytes, expected " + std::to_string(kSenderCertificateSize));
  }
  // The size was checked: these reads cannot run out.
  ByteReader reader(bytes, "sender certificate");
  SenderCertificate certificate;
  std::uint8_t version = SZ_TRY(reader.u8("version"));
  if (version != kCertificateVersion) {
    return make_error(Errc::malformed,
                      "sender certificate version " + std::to_string(version) + " is not supported");
  }
  certificate.sender_identity = SZ_TRY(reader.array<32>("sender identity"));
  certificate.sender_device_id = SZ_TRY(reader.u32("sender device id"));
  std::uint64_t expires = SZ_TRY(reader.u64("expiry"));
  certificate.signature = SZ_TRY(reader.array<64>("signature"));
  if (expires > static_cast<std::uint64_t>(INT64_MAX)) {
    return make_error(Errc::malformed, "sender certificate expiry is out of range");
  }
  certificate.expires_unix_ms = static_cast<std::int64_t>(expires);
  return certificate;
}

Status SenderCertificate::verify(const Ed25519Public& trusted_server_key, std::int64_t now_unix_ms) const {
  if (!ed25519_verify(trusted_server_key, signing_message(*this), signature).ok()) {
    return make_error(
        Errc::auth_failed,
        "sender certificate is not signed by this network's server key: the message is forged or from "
        "another network; dropping it");
  }
  if (now_unix_ms >= expires_unix_ms) {
    return make_error(Errc::auth_failed,
                      "sender certificate expired " + std::to_string((now_unix_ms - expires_unix_ms) / 1000) +
                          " s ago: the sender must fetch a fresh one (or this clock is wrong)");
  }
  return {};
}

}  // namespace samizdat::crypto::e2e
