#include "crypto/e2e/sealed_sender.hpp"

#include <sodium.h>

#include <string_view>

#include "crypto/e2e/hkdf.hpp"
#include "crypto/e2e/padding.hpp"
#include "util/byte_reader.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::string_view kSaltPrefix = "Samizdat_SealedSender_v1";
constexpr std::string_view kEphemeralInfo = "Samizdat_SealedSender_v1_ephemeral";
constexpr std::string_view kStaticInfo = "Samizdat_SealedSender_v1_static";
constexpr std::size_t kTag = crypto_aead_chacha20poly1305_ietf_ABYTES;
constexpr std::size_t kHeaderSize = 1 + 32;
constexpr std::size_t kSealedIdentitySize = 32 + kTag;
constexpr std::size_t kInnerFixedSize = kSenderCertificateSize + 4;  // certificate || content length
constexpr std::size_t kMinEnvelopeSize = kHeaderSize + kSealedIdentitySize + kMinPaddedSize + kTag;
const std::size_t kMaxEnvelopeSize =
    kHeaderSize + kSealedIdentitySize + padded_size(kInnerFixedSize + kMaxSealedContentSize) + kTag;

struct EphemeralKeys {
  Secret<32> chain_key;
  Secret<32> cipher_key;
};

EphemeralKeys ephemeral_keys(const X25519Public& recipient, const X25519Public& ephemeral_public,
                             const Secret<32>& dh) {
  Bytes salt;
  salt.reserve(kSaltPrefix.size() + 64);
  append(salt, as_bytes(kSaltPrefix));
  append(salt, recipient);
  append(salt, ephemeral_public);
  Secret<64> okm;
  hkdf_sha256(salt, dh.view(), as_bytes(kEphemeralInfo), okm.mutable_view());
  return {Secret<32>(okm.view().first(32)), Secret<32>(okm.view().subspan(32))};
}

Secret<32> static_key(const Secret<32>& chain_key, ByteView sealed_identity, const Secret<32>& dh) {
  Bytes salt;
  salt.reserve(32 + sealed_identity.size());
  append(salt, chain_key.view());
  append(salt, sealed_identity);
  Secret<32> key;
  hkdf_sha256(salt, dh.view(), as_bytes(kStaticInfo), key.mutable_view());
  sodium_memzero(salt.data(), salt.size());
  return key;
}

// Every key is used for exactly one message (a fresh ephemeral per envelope): a zero nonce is safe.
void aead_seal(const Secret<32>& key, ByteView ad, ByteView plaintext, Bytes& out) {
  static constexpr std::uint8_t kNonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};
  std::size_t offset = out.size();
  out.resize(offset + plaintext.size() + kTag);
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + offset, nullptr, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, kNonce, key.data());
}

bool aead_open(const Secret<32>& key, ByteView ad, ByteView ciphertext, MutableByteView plaintext) {
  static constexpr std::uint8_t kNonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};
  return crypto_aead_chacha20poly1305_ietf_decrypt(plaintext.data(), nullptr, nullptr, ciphertext.data(),
                                                   ciphertext.size(), ad.data(), ad.size(), kNonce,
                                                   key.data()) == 0;
}

Error tampered() {
  return make_error(Errc::auth_failed,
                    "sealed envelope did not authenticate: tampered with or not addressed to us");
}

}  // namespace

Result<Bytes> seal_envelope(const Ed25519KeyPair& sender_identity, const SenderCertificate& certificate,
                            const Ed25519Public& recipient_identity, ByteView content) {
  return seal_envelope(sender_identity, certificate, recipient_identity, content, X25519KeyPair::generate());
}

Result<Bytes> seal_envelope(const Ed25519KeyPair& sender_identity, const SenderCertificate& certificate,
                            const Ed25519Public& recipient_identity, ByteView content,
                            const X25519KeyPair& ephemeral) {
  if (content.size() > kMaxSealedContentSize) {
    return make_error(Errc::limit_exceeded, "content of " + std::to_string(content.size()) +
                                                " bytes is too large for a sealed envelope");
  }
  if (certificate.sender_identity != sender_identity.public_key) {
    return make_error(Errc::invalid_argument,
                      "sender certificate is for a different identity than the sender's");
  }
  auto recipient_x = ed25519_public_to_x25519(recipient_identity);
  if (!recipient_x.ok()) return make_error(Errc::invalid_argument, "recipient identity key is not valid");

  Secret<32> dh_ephemeral = SZ_TRY(x25519(ephemeral.secret_key, *recipient_x));
  EphemeralKeys keys = ephemeral_keys(*recipient_x, ephemeral.public_key, dh_ephemeral);

  std::size_t inner_size = padded_size(kInnerFixedSize + content.size());
  Bytes out;
  out.reserve(kHeaderSize + kSealedIdentitySize + inner_size + kTag);
  out.push_back(kSealedSenderVersion);
  append(out, ephemeral.public_key);
  aead_seal(keys.cipher_key, ByteView(out).first(kHeaderSize), sender_identity.public_key, out);

  X25519KeyPair sender_x = sender_identity.to_x25519();
  Secret<32> dh_static = SZ_TRY(x25519(sender_x.secret_key, *recipient_x));
  Secret<32> key =
      static_key(keys.chain_key, ByteView(out).subspan(kHeaderSize, kSealedIdentitySize), dh_static);

  SecretBytes inner(inner_size);  // zero-filled: the padding
  Bytes certificate_bytes = certificate.encode();
  std::copy(certificate_bytes.begin(), certificate_bytes.end(), inner.data());
  put_u32_be(inner.data() + kSenderCertificateSize, static_cast<std::uint32_t>(content.size()));
  std::copy(content.begin(), content.end(), inner.data() + kInnerFixedSize);
  Bytes ad(out.begin(), out.end());  // header || sealed identity
  aead_seal(key, ad, inner.view(), out);
  return out;
}

Result<OpenedEnvelope> open_envelope(const Ed25519KeyPair& recipient_identity,
                                     const Ed25519Public& trusted_server_key, std::int64_t now_unix_ms,
                                     ByteView envelope) {
  if (envelope.size() < kMinEnvelopeSize) {
    return make_error(Errc::malformed,
                      "sealed envelope is too short (" + std::to_string(envelope.size()) + " bytes)");
  }
  if (envelope.size() > kMaxEnvelopeSize)
    return make_error(Errc::limit_exceeded, "sealed envelope is too large");
  if (envelope[0] != kSealedSenderVersion) {
    return make_error(Errc::malformed, "sealed envelope version " + std::to_string(envelope[0]) +
                                           " is not supported (from a newer app?)");
  }
  X25519Public ephemeral_public{};
  std::copy_n(envelope.data() + 1, 32, ephemeral_public.begin());
  ByteView header = envelope.first(kHeaderSize);
  ByteView sealed_identity = envelope.subspan(kHeaderSize, kSealedIdentitySize);
  ByteView sealed_inner = envelope.subspan(kHeaderSize + kSealedIdentitySize);

  X25519KeyPair recipient_x = recipient_identity.to_x25519();
  auto dh_ephemeral = x25519(recipient_x.secret_key, ephemeral_public);
  if (!dh_ephemeral.ok()) return tampered();
  EphemeralKeys keys = ephemeral_keys(recipient_x.public_key, ephemeral_public, *dh_ephemeral);
  Ed25519Public sender{};
  if (!aead_open(keys.cipher_key, header, sealed_identity, sender)) return tampered();

  auto sender_x = ed25519_public_to_x25519(sender);
  if (!sender_x.ok()) return tampered();
  auto dh_static = x25519(recipient_x.secret_key, *sender_x);
  if (!dh_static.ok()) return tampered();
  Secret<32> key = static_key(keys.chain_key, sealed_identity, *dh_static);
  SecretBytes inner(sealed_inner.size() - kTag);
  if (!aead_open(key, envelope.first(kHeaderSize + kSealedIdentitySize), sealed_inner,
                 inner.mutable_view())) {
    return tampered();
  }

  // Authenticated from here on: what remains to check is the sender's own encoding.
  ByteReader reader(inner.view(), "sealed envelope content");
  ByteView certificate_bytes = SZ_TRY(reader.bytes(kSenderCertificateSize, "sender certificate"));
  std::uint32_t content_size = SZ_TRY(reader.u32("content length"));
  ByteView content = SZ_TRY(reader.bytes(content_size, "content"));
  ByteView padding = reader.rest();
  for (std::uint8_t b : padding) {
    if (b != 0) return make_error(Errc::malformed, "sealed envelope padding is not zero");
  }
  if (inner.size() != padded_size(kInnerFixedSize + content_size)) {
    return make_error(Errc::malformed, "sealed envelope is not padded to its size bucket");
  }
  SenderCertificate certificate = SZ_TRY(SenderCertificate::parse(certificate_bytes));
  if (certificate.sender_identity != sender) {
    return make_error(
        Errc::auth_failed,
        "sender certificate names a different identity than the one that sealed the message; dropping it");
  }
  SZ_CHECK(certificate.verify(trusted_server_key, now_unix_ms));
  return OpenedEnvelope{certificate, to_bytes(content)};
}

}  // namespace samizdat::crypto::e2e
