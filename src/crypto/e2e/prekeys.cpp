#include "crypto/e2e/prekeys.hpp"

#include <string_view>

namespace samizdat::crypto::e2e {

Bytes signed_prekey_signing_message(PreKeyId id, const X25519Public& public_key) {
  static constexpr std::string_view kDomain = "Samizdat_SignedPreKey_v1";
  Bytes message;
  message.reserve(kDomain.size() + 4 + public_key.size());
  append(message, as_bytes(kDomain));
  append_u32_be(message, id);
  append(message, public_key);
  return message;
}

SignedPreKey SignedPreKey::generate(const Ed25519KeyPair& identity, PreKeyId id) {
  SignedPreKey spk{id, X25519KeyPair::generate(), {}};
  spk.signature = identity.sign(signed_prekey_signing_message(id, spk.key_pair.public_key));
  return spk;
}

SignedPreKey SignedPreKey::from_parts(PreKeyId id, ByteView secret_key, const Ed25519Signature& signature) {
  return {id, X25519KeyPair::from_secret(secret_key), signature};
}

OneTimePreKey OneTimePreKey::generate(PreKeyId id) { return {id, X25519KeyPair::generate()}; }

std::vector<OneTimePreKey> generate_one_time_prekeys(PreKeyId first_id, std::size_t count) {
  std::vector<OneTimePreKey> keys;
  keys.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    keys.push_back(OneTimePreKey::generate(first_id + static_cast<PreKeyId>(i)));
  return keys;
}

Status verify_signed_prekey(const Ed25519Public& identity_key, const SignedPreKeyPublic& signed_prekey) {
  if (!ed25519_verify(identity_key, signed_prekey_signing_message(signed_prekey.id, signed_prekey.public_key),
                      signed_prekey.signature)
           .ok()) {
    return make_error(Errc::auth_failed, "signed prekey " + std::to_string(signed_prekey.id) +
                                             " is not signed by the contact's identity key: the server may "
                                             "be tampering; not starting a session");
  }
  return {};
}

}  // namespace samizdat::crypto::e2e
