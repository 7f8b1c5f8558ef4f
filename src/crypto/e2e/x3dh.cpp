#include "crypto/e2e/x3dh.hpp"

#include <algorithm>
#include <string_view>

#include "crypto/e2e/hkdf.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::string_view kInfo = "Samizdat_X3DH_v1";

// KDF(KM) = HKDF(salt = 32 zero bytes, ikm = F || KM, info), F = 32 0xFF bytes (X3DH 2.2):
// F keeps the input from ever colliding with an XEdDSA-style scalar use of the same keys.
Secret<32> derive_shared_key(const Secret<32>& dh1, const Secret<32>& dh2, const Secret<32>& dh3,
                             const Secret<32>* dh4) {
  SecretBytes ikm(32 * (dh4 != nullptr ? 5 : 4));
  std::fill_n(ikm.data(), 32, 0xFF);
  std::copy_n(dh1.data(), 32, ikm.data() + 32);
  std::copy_n(dh2.data(), 32, ikm.data() + 64);
  std::copy_n(dh3.data(), 32, ikm.data() + 96);
  if (dh4 != nullptr) std::copy_n(dh4->data(), 32, ikm.data() + 128);
  std::uint8_t salt[32] = {};
  Secret<32> sk;
  hkdf_sha256(ByteView(salt, 32), ikm.view(), as_bytes(kInfo), sk.mutable_view());
  return sk;
}

Bytes associated_data(const Ed25519Public& initiator, const Ed25519Public& responder) {
  Bytes ad;
  ad.reserve(kX3dhAssociatedDataSize);
  append(ad, initiator);
  append(ad, responder);
  return ad;
}

}  // namespace

Result<X3dhInitiated> x3dh_initiate(const Ed25519KeyPair& identity, const PreKeyBundle& bundle) {
  return x3dh_initiate(identity, bundle, X25519KeyPair::generate());
}

Result<X3dhInitiated> x3dh_initiate(const Ed25519KeyPair& identity, const PreKeyBundle& bundle,
                                    const X25519KeyPair& ephemeral) {
  SZ_CHECK(verify_signed_prekey(bundle.identity_key, bundle.signed_prekey));
  auto remote_identity_x = ed25519_public_to_x25519(bundle.identity_key);
  if (!remote_identity_x.ok()) {
    return make_error(Errc::malformed, "prekey bundle identity key is not a valid Ed25519 key");
  }
  X25519KeyPair identity_x = identity.to_x25519();
  const X25519Public& spk = bundle.signed_prekey.public_key;

  Secret<32> dh1 = SZ_TRY(x25519(identity_x.secret_key, spk));
  Secret<32> dh2 = SZ_TRY(x25519(ephemeral.secret_key, *remote_identity_x));
  Secret<32> dh3 = SZ_TRY(x25519(ephemeral.secret_key, spk));
  std::optional<Secret<32>> dh4;
  if (bundle.one_time_prekey) dh4 = SZ_TRY(x25519(ephemeral.secret_key, bundle.one_time_prekey->public_key));

  X3dhInitiated out;
  out.shared_key = derive_shared_key(dh1, dh2, dh3, dh4 ? &*dh4 : nullptr);
  out.associated_data = associated_data(identity.public_key, bundle.identity_key);
  out.header.initiator_identity = identity.public_key;
  out.header.ephemeral_key = ephemeral.public_key;
  out.header.signed_prekey_id = bundle.signed_prekey.id;
  if (bundle.one_time_prekey) out.header.one_time_prekey_id = bundle.one_time_prekey->id;
  out.responder_signed_prekey = spk;
  return out;  // DH outputs and identity_x are wiped by their destructors
}

Result<X3dhResponded> x3dh_respond(const Ed25519KeyPair& identity, const SignedPreKey& signed_prekey,
                                   const OneTimePreKey* one_time_prekey, const X3dhHeader& header) {
  if (signed_prekey.id != header.signed_prekey_id) {
    return make_error(Errc::not_found, "first message names signed prekey " +
                                           std::to_string(header.signed_prekey_id) + " but key " +
                                           std::to_string(signed_prekey.id) + " was given");
  }
  if (header.one_time_prekey_id.has_value() != (one_time_prekey != nullptr) ||
      (one_time_prekey != nullptr && one_time_prekey->id != *header.one_time_prekey_id)) {
    return make_error(
        Errc::not_found,
        "first message names a one-time prekey that is not available (already used?): cannot start session");
  }
  auto initiator_x = ed25519_public_to_x25519(header.initiator_identity);
  if (!initiator_x.ok()) return make_error(Errc::malformed, "first message carries an invalid identity key");
  X25519KeyPair identity_x = identity.to_x25519();

  Secret<32> dh1 = SZ_TRY(x25519(signed_prekey.key_pair.secret_key, *initiator_x));
  Secret<32> dh2 = SZ_TRY(x25519(identity_x.secret_key, header.ephemeral_key));
  Secret<32> dh3 = SZ_TRY(x25519(signed_prekey.key_pair.secret_key, header.ephemeral_key));
  std::optional<Secret<32>> dh4;
  if (one_time_prekey != nullptr)
    dh4 = SZ_TRY(x25519(one_time_prekey->key_pair.secret_key, header.ephemeral_key));

  X3dhResponded out;
  out.shared_key = derive_shared_key(dh1, dh2, dh3, dh4 ? &*dh4 : nullptr);
  out.associated_data = associated_data(header.initiator_identity, identity.public_key);
  out.consumed_one_time_prekey_id = header.one_time_prekey_id;
  return out;
}

}  // namespace samizdat::crypto::e2e
