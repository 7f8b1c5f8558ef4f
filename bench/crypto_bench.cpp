// Crypto throughput of Samizdat: Noise IKpsk2 handshakes, X3DH, session set-up, Double Ratchet
// messages and frame seal+open. Session set-up and the Double Ratchet also run through
// libsignal-protocol-c in the same binary (bench/signal_baseline/), with the same message
// pattern, for the side-by-side table in docs/BENCHMARKS.md; BM_Primitive_* explain the ratios.

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include "crypto/e2e/prekeys.hpp"
#include "crypto/e2e/ratchet_message.hpp"
#include "crypto/e2e/ratchet_session.hpp"
#include "crypto/e2e/x3dh.hpp"
#include "crypto/keys.hpp"
#include "crypto/noise/handshake.hpp"
#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "wire/frame_codec.hpp"

#if SAMIZDAT_SIGNAL_BASELINE
#include <curve.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "signal_baseline/openssl_crypto_provider.hpp"
#include "signal_baseline/signal_session_pair.hpp"
#endif

namespace {

using namespace samizdat;  // NOLINT: a benchmark file, not a header
namespace noise = samizdat::crypto::noise;
namespace e2e = samizdat::crypto::e2e;

constexpr size_t kMessageSize = 256;

// ---- Noise IKpsk2: one full handshake, both sides, in-process ----------------------------

crypto::X25519KeyPair copy_of(const crypto::X25519KeyPair& pair) {
  // A field copy: clone() would recompute the public key, a cost a server does not pay per handshake.
  return {crypto::Secret<32>(pair.secret_key.view()), pair.public_key};
}

// One iteration = both HandshakeStates created, the two IKpsk2 messages (empty payloads)
// written and read, and both sides split into transport keys. Static keys and the PSK exist
// beforehand, as they do on a server and a registered device; ephemerals are fresh each time.
void BM_Samizdat_NoiseIKpsk2Handshake(benchmark::State& state) {
  crypto::ensure_initialized();
  const auto initiator_static = crypto::X25519KeyPair::generate();
  const auto responder_static = crypto::X25519KeyPair::generate();
  const auto psk = crypto::Secret<32>::random();
  const Bytes prologue = to_bytes("samizdat bench");
  for (auto _ : state) {
    noise::HandshakeOptions initiator_options;
    initiator_options.protocol_name = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
    initiator_options.role = noise::Role::initiator;
    initiator_options.prologue = prologue;
    initiator_options.local_static = copy_of(initiator_static);
    initiator_options.remote_static = responder_static.public_key;
    initiator_options.psks.push_back(psk.clone());
    noise::HandshakeOptions responder_options;
    responder_options.protocol_name = initiator_options.protocol_name;
    responder_options.role = noise::Role::responder;
    responder_options.prologue = prologue;
    responder_options.local_static = copy_of(responder_static);
    responder_options.psks.push_back(psk.clone());

    auto initiator = noise::HandshakeState::create(std::move(initiator_options));
    auto responder = noise::HandshakeState::create(std::move(responder_options));
    if (!initiator || !responder) return state.SkipWithError("Noise: could not create handshake states");
    auto first = initiator->write_message({});
    if (!first || !responder->read_message(*first)) return state.SkipWithError("Noise: first message failed");
    auto second = responder->write_message({});
    if (!second || !initiator->read_message(*second))
      return state.SkipWithError("Noise: second message failed");
    auto initiator_keys = initiator->split();
    auto responder_keys = responder->split();
    if (!initiator_keys || !responder_keys ||
        initiator_keys->handshake_hash != responder_keys->handshake_hash) {
      return state.SkipWithError("Noise: the two sides disagree after the handshake");
    }
    benchmark::DoNotOptimize(initiator_keys->send.nonce());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Samizdat_NoiseIKpsk2Handshake);

// ---- X3DH: one agreement, both sides --------------------------------------------------------

// One iteration = x3dh_initiate (checks the SPK signature, DH1..DH4, HKDF) at Alice and
// x3dh_respond (DH1..DH4, HKDF) at Bob, with a one-time prekey. Identities and Bob's prekeys
// exist beforehand; the same OPK is offered every time (its generation is not part of the
// agreement), and both sides must derive the same key.
void BM_Samizdat_X3dhAgreement(benchmark::State& state) {
  crypto::ensure_initialized();
  const auto alice = crypto::Ed25519KeyPair::generate();
  const auto bob = crypto::Ed25519KeyPair::generate();
  const auto signed_prekey = e2e::SignedPreKey::generate(bob, 1);
  const auto one_time_prekey = e2e::OneTimePreKey::generate(1);
  e2e::PreKeyBundle bundle;
  bundle.identity_key = bob.public_key;
  bundle.device_id = 1;
  bundle.signed_prekey = signed_prekey.public_part();
  bundle.one_time_prekey = one_time_prekey.public_part();
  for (auto _ : state) {
    auto initiated = e2e::x3dh_initiate(alice, bundle);
    if (!initiated) return state.SkipWithError("X3DH: initiate failed");
    auto responded = e2e::x3dh_respond(bob, signed_prekey, &one_time_prekey, initiated->header);
    if (!responded || !equal_constant_time(responded->shared_key.view(), initiated->shared_key.view())) {
      return state.SkipWithError("X3DH: the two sides derived different keys");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Samizdat_X3dhAgreement);

// ---- Double Ratchet: Samizdat sessions between Alice and Bob ------------------------------

// Alice and Bob with Samizdat RatchetSessions, set up exactly like the libsignal pair: Bob's
// identity, signed prekey and one-time prekey exist; Alice initiates from his bundle.
class SamizdatSessionPair {
 public:
  SamizdatSessionPair()
      : alice_(crypto::Ed25519KeyPair::generate()),
        bob_(crypto::Ed25519KeyPair::generate()),
        signed_prekey_(e2e::SignedPreKey::generate(bob_, 1)),
        one_time_prekey_(e2e::OneTimePreKey::generate(1)) {
    bundle_.identity_key = bob_.public_key;
    bundle_.device_id = 1;
    bundle_.signed_prekey = signed_prekey_.public_part();
    bundle_.one_time_prekey = one_time_prekey_.public_part();
  }

  // Alice initiates and encrypts `first_message` (a PreKeyMessage); Bob parses it and accepts.
  bool restart_session(ByteView first_message) {
    auto initiated = e2e::RatchetSession::initiate(alice_, bundle_);
    if (!initiated) return false;
    auto wire = initiated->encrypt(first_message);
    if (!wire) return false;
    auto parsed = e2e::PreKeyMessage::parse(*wire);
    if (!parsed) return false;
    auto accepted = e2e::RatchetSession::accept(bob_, signed_prekey_, &one_time_prekey_, *parsed);
    if (!accepted || accepted->consumed_one_time_prekey_id != one_time_prekey_.id ||
        !equal_constant_time(accepted->plaintext, first_message)) {
      return false;
    }
    alice_session_.emplace(std::move(*initiated));
    bob_session_.emplace(std::move(accepted->session));
    return true;
  }

  // Set up, then one reply and one more message so both sides are in steady state.
  bool establish() {
    const Bytes hello(16, 'h');
    if (!restart_session(hello)) return false;
    auto reply = bob_session_->encrypt(hello);
    if (!reply || !alice_session_->decrypt(*reply)) return false;
    auto next = alice_session_->encrypt(hello);
    return next && e2e::peek_message_type(*next).ok() &&
           *e2e::peek_message_type(*next) == e2e::MessageType::message && bob_session_->decrypt(*next).ok();
  }

  e2e::RatchetSession& session(bool alice) { return alice ? *alice_session_ : *bob_session_; }

 private:
  crypto::Ed25519KeyPair alice_;
  crypto::Ed25519KeyPair bob_;
  e2e::SignedPreKey signed_prekey_;
  e2e::OneTimePreKey one_time_prekey_;
  e2e::PreKeyBundle bundle_;
  std::optional<e2e::RatchetSession> alice_session_;
  std::optional<e2e::RatchetSession> bob_session_;
};

// Loads a session from its serialised state, runs `operation` on it and stores it back: what
// libsignal-protocol-c's session_cipher does around every encrypt/decrypt (through its store).
template <typename Operation>
auto with_persisted(crypto::SecretBytes& stored, Operation operation)
    -> decltype(operation(std::declval<e2e::RatchetSession&>())) {
  auto session = e2e::RatchetSession::deserialize(stored.view());
  if (!session) return std::move(session).error();
  auto result = operation(*session);
  if (result) stored = session->serialize();
  return result;
}

// One iteration = one 256-byte message encrypted by one side and decrypted by the other (wire
// bytes encoded and parsed). alternate:1 switches sender every message, so every message
// carries a new ratchet key (a DH ratchet step at the receiver, a new sending chain at the next
// sender); alternate:0 keeps Alice sending (symmetric-key ratchet only). persist:1 also
// deserialises each side's session before and serialises it after each operation, as
// libsignal-protocol-c always does through its session store.
void BM_Samizdat_RatchetEncryptDecrypt256(benchmark::State& state) {
  crypto::ensure_initialized();
  const bool alternate = state.range(0) != 0;
  const bool persist = state.range(1) != 0;
  SamizdatSessionPair pair;
  if (!pair.establish()) return state.SkipWithError("Samizdat: could not establish the sessions");
  crypto::SecretBytes stored_alice = pair.session(true).serialize();
  crypto::SecretBytes stored_bob = pair.session(false).serialize();
  const Bytes message(kMessageSize, 0x5a);
  bool alice_sends = true;
  for (auto _ : state) {
    Result<Bytes> wire = make_error(Errc::internal, "unset");
    Result<Bytes> received = make_error(Errc::internal, "unset");
    if (persist) {
      wire = with_persisted(alice_sends ? stored_alice : stored_bob,
                            [&](e2e::RatchetSession& s) { return s.encrypt(message); });
      if (wire) {
        received = with_persisted(alice_sends ? stored_bob : stored_alice,
                                  [&](e2e::RatchetSession& s) { return s.decrypt(*wire); });
      }
    } else {
      wire = pair.session(alice_sends).encrypt(message);
      if (wire) received = pair.session(!alice_sends).decrypt(*wire);
    }
    if (!received || *received != message)
      return state.SkipWithError("Samizdat: a message failed to round-trip");
    if (alternate) alice_sends = !alice_sends;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMessageSize));
}
BENCHMARK(BM_Samizdat_RatchetEncryptDecrypt256)
    ->ArgNames({"alternate", "persist"})
    ->ArgsProduct({{1, 0}, {0, 1}});

// One iteration = a first contact: Alice initiates from Bob's bundle (SPK signature check, X3DH,
// ratchet start) and encrypts a 256-byte first message; Bob parses the PreKeyMessage and
// accepts it (X3DH, ratchet start, decrypt). The libsignal-protocol-c counterpart is below.
void BM_Samizdat_SessionSetup(benchmark::State& state) {
  crypto::ensure_initialized();
  SamizdatSessionPair pair;
  const Bytes message(kMessageSize, 0x5a);
  for (auto _ : state) {
    if (!pair.restart_session(message)) return state.SkipWithError("Samizdat: session set-up failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Samizdat_SessionSetup);

// ---- Frame codec: seal + open ----------------------------------------------------------

// One iteration = one data frame of range(0) payload bytes sealed by a FrameEncoder, fed to
// the FrameDecoder of the same key and opened. No padding (PaddingPolicy::none), so bytes/s
// counts payload through the AEAD and length mask only; the output buffer is reused.
void BM_Samizdat_FrameSealOpen(benchmark::State& state) {
  crypto::ensure_initialized();
  const auto key = crypto::Secret<wire::kFrameKeySize>::random();
  wire::FrameEncoder encoder(key);
  wire::FrameDecoder decoder(key);
  const Bytes payload(static_cast<size_t>(state.range(0)), 0xa5);
  Bytes sealed;
  sealed.reserve(wire::kMaxFrameWireSize);
  for (auto _ : state) {
    sealed.clear();
    if (!encoder.seal_data(payload, sealed)) return state.SkipWithError("frame codec: seal failed");
    decoder.feed(sealed);
    auto frame = decoder.next();
    if (!frame || !frame->has_value() || (*frame)->payload.size() != payload.size()) {
      return state.SkipWithError("frame codec: open failed");
    }
    benchmark::DoNotOptimize((*frame)->payload.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Samizdat_FrameSealOpen)->ArgName("payload")->Arg(64)->Arg(1400)->Arg(16 * 1024);

// ---- Primitives under both libraries, to explain the ratios above ----------------------

// HMAC-SHA256 of a 1-byte message under a 32-byte key: one chain-key step of either ratchet.
void BM_Primitive_HmacSha256_Libsodium(benchmark::State& state) {
  crypto::ensure_initialized();
  std::array<uint8_t, 32> key{1};
  const uint8_t constant = 0x01;
  for (auto _ : state) {
    crypto_auth_hmacsha256_state hmac;
    crypto_auth_hmacsha256_init(&hmac, key.data(), key.size());
    crypto_auth_hmacsha256_update(&hmac, &constant, 1);
    crypto_auth_hmacsha256_final(&hmac, key.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Primitive_HmacSha256_Libsodium);

// Keyed BLAKE2b-256 of the same input (libsodium crypto_generichash): a possible chain KDF.
void BM_Primitive_Blake2b256Keyed_Libsodium(benchmark::State& state) {
  crypto::ensure_initialized();
  std::array<uint8_t, 32> key{1};
  const uint8_t constant = 0x01;
  for (auto _ : state) {
    crypto_generichash(key.data(), key.size(), &constant, 1, key.data(), key.size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Primitive_Blake2b256Keyed_Libsodium);

// X25519 with libsodium (what Samizdat's x25519() calls).
void BM_Primitive_X25519_Libsodium(benchmark::State& state) {
  crypto::ensure_initialized();
  const auto ours = crypto::X25519KeyPair::generate();
  const auto theirs = crypto::X25519KeyPair::generate();
  for (auto _ : state) {
    auto shared = crypto::x25519(ours.secret_key, theirs.public_key);
    if (!shared) return state.SkipWithError("x25519 failed");
    benchmark::DoNotOptimize(shared->data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Primitive_X25519_Libsodium);

#if SAMIZDAT_SIGNAL_BASELINE
namespace baseline = samizdat::bench::signal_baseline;

baseline::Party other(baseline::Party party) {
  return party == baseline::Party::alice ? baseline::Party::bob : baseline::Party::alice;
}

// One iteration = one 256-byte message encrypted by one side and decrypted by the other,
// wire bytes serialised and parsed. range(0) == 1 alternates the sender every message (each
// message then carries a new ratchet key: a DH ratchet step); 0 keeps Alice sending
// (symmetric chain steps only).
void BM_Libsignal_RatchetEncryptDecrypt256(benchmark::State& state) {
  const bool alternate = state.range(0) != 0;
  baseline::SignalSessionPair pair;
  const std::vector<uint8_t> message(kMessageSize, 0x5a);
  std::vector<uint8_t> received;
  baseline::Party sender = baseline::Party::alice;
  for (auto _ : state) {
    std::vector<uint8_t> wire = pair.encrypt(sender, message);
    if (!pair.decrypt(other(sender), wire, received) || received != message) {
      state.SkipWithError("libsignal-protocol-c failed to round-trip a message");
      break;
    }
    if (alternate) sender = other(sender);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMessageSize));
}
BENCHMARK(BM_Libsignal_RatchetEncryptDecrypt256)->ArgName("alternate")->Arg(1)->Arg(0);

// The same first contact through libsignal-protocol-c: session_builder_process_pre_key_bundle,
// session_cipher_encrypt (a PreKeySignalMessage), pre_key_signal_message_deserialize and
// session_cipher_decrypt_pre_key_signal_message at Bob (see SignalSessionPair::restart_session).
void BM_Libsignal_SessionSetup(benchmark::State& state) {
  baseline::SignalSessionPair pair;
  const std::vector<uint8_t> message(kMessageSize, 0x5a);
  for (auto _ : state) {
    if (!pair.restart_session(message))
      return state.SkipWithError("libsignal-protocol-c: session set-up failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Libsignal_SessionSetup);
// HMAC-SHA256 through the OpenSSL provider libsignal-protocol-c uses here (context duplicated
// from a SHA-256-bound template, as SignalSessionPair's provider does).
void BM_Primitive_HmacSha256_OpenSsl(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* bound = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (bound == nullptr || EVP_MAC_CTX_set_params(bound, params) != 1) {
    EVP_MAC_CTX_free(bound);
    EVP_MAC_free(mac);
    return state.SkipWithError("OpenSSL HMAC-SHA256 unavailable");
  }
  std::array<uint8_t, 32> key{1};
  const uint8_t constant = 0x01;
  for (auto _ : state) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(bound);
    size_t len = 0;
    EVP_MAC_init(ctx, key.data(), key.size(), nullptr);
    EVP_MAC_update(ctx, &constant, 1);
    EVP_MAC_final(ctx, key.data(), &len, key.size());
    EVP_MAC_CTX_free(ctx);
  }
  EVP_MAC_CTX_free(bound);
  EVP_MAC_free(mac);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Primitive_HmacSha256_OpenSsl);

// X25519 with libsignal-protocol-c's built-in curve25519 (curve_calculate_agreement).
void BM_Primitive_X25519_Libsignal(benchmark::State& state) {
  baseline::OpenSslCryptoProvider provider;
  signal_context* context = nullptr;
  if (signal_context_create(&context, nullptr) != SG_SUCCESS) return state.SkipWithError("no signal context");
  provider.install(context);
  ec_key_pair* ours = nullptr;
  ec_key_pair* theirs = nullptr;
  if (curve_generate_key_pair(context, &ours) != SG_SUCCESS ||
      curve_generate_key_pair(context, &theirs) != SG_SUCCESS) {
    state.SkipWithError("libsignal key generation failed");
  } else {
    for (auto _ : state) {
      uint8_t* shared = nullptr;
      if (curve_calculate_agreement(&shared, ec_key_pair_get_public(theirs), ec_key_pair_get_private(ours)) <
          0) {
        state.SkipWithError("libsignal agreement failed");
        break;
      }
      free(shared);
    }
  }
  if (ours != nullptr) SIGNAL_UNREF(ours);
  if (theirs != nullptr) SIGNAL_UNREF(theirs);
  signal_context_destroy(context);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Primitive_X25519_Libsignal);
#endif

}  // namespace

BENCHMARK_MAIN();
