#include "signal_baseline/signal_session_pair.hpp"

#include <key_helper.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>

#include <stdexcept>
#include <string>

namespace samizdat::bench::signal_baseline {
namespace {

constexpr char kAliceName[] = "alice";
constexpr char kBobName[] = "bob";
constexpr int32_t kDeviceId = 1;
constexpr signal_protocol_address kAliceAddress{kAliceName, sizeof(kAliceName) - 1, kDeviceId};
constexpr signal_protocol_address kBobAddress{kBobName, sizeof(kBobName) - 1, kDeviceId};

void check(int result, const char* what) {
  if (result < 0) {
    throw std::runtime_error(std::string("libsignal-protocol-c: ") + what + " failed (" +
                             std::to_string(result) + ")");
  }
}

// Owns one reference to a libsignal object.
template <typename T>
struct Ref {
  T* ptr = nullptr;
  ~Ref() {
    if (ptr != nullptr) SIGNAL_UNREF(ptr);
  }
};

}  // namespace

struct SignalSessionPair::Side {
  InMemorySignalStore store;
  const signal_protocol_address* peer;
  session_cipher* cipher = nullptr;

  Side(signal_context* context, const signal_protocol_address* peer_address)
      : store(context), peer(peer_address) {
    check(session_cipher_create(&cipher, store.context(), peer, context), "creating a session cipher");
  }
  ~Side() { session_cipher_free(cipher); }
};

SignalSessionPair::SignalSessionPair() {
  check(signal_context_create(&context_, nullptr), "creating a context");
  provider_.install(context_);
  alice_ = std::make_unique<Side>(context_, &kBobAddress);
  bob_ = std::make_unique<Side>(context_, &kAliceAddress);

  // Bob publishes one one-time pre-key and one signed pre-key.
  signal_protocol_key_helper_pre_key_list_node* pre_keys = nullptr;
  check(signal_protocol_key_helper_generate_pre_keys(&pre_keys, 1, 1, context_), "generating a pre-key");
  session_pre_key* pre_key = signal_protocol_key_helper_key_list_element(pre_keys);
  Ref<session_signed_pre_key> signed_pre_key;
  Ref<session_pre_key_bundle> bundle;
  try {
    check(signal_protocol_pre_key_store_key(bob_->store.context(), pre_key), "storing the pre-key");
    check(signal_protocol_key_helper_generate_signed_pre_key(&signed_pre_key.ptr, bob_->store.identity(), 1,
                                                             0, context_),
          "generating the signed pre-key");
    check(signal_protocol_signed_pre_key_store_key(bob_->store.context(), signed_pre_key.ptr),
          "storing the signed pre-key");
    check(session_pre_key_bundle_create(
              &bundle.ptr, bob_->store.registration_id(), kDeviceId, session_pre_key_get_id(pre_key),
              ec_key_pair_get_public(session_pre_key_get_key_pair(pre_key)),
              session_signed_pre_key_get_id(signed_pre_key.ptr),
              ec_key_pair_get_public(session_signed_pre_key_get_key_pair(signed_pre_key.ptr)),
              session_signed_pre_key_get_signature(signed_pre_key.ptr),
              session_signed_pre_key_get_signature_len(signed_pre_key.ptr),
              ratchet_identity_key_pair_get_public(bob_->store.identity())),
          "creating the pre-key bundle");
  } catch (...) {
    signal_protocol_key_helper_key_list_free(pre_keys);
    throw;
  }
  signal_protocol_key_helper_key_list_free(pre_keys);

  // Alice runs X3DH against the bundle.
  session_builder* builder = nullptr;
  check(session_builder_create(&builder, alice_->store.context(), &kBobAddress, context_),
        "creating a builder");
  int processed = session_builder_process_pre_key_bundle(builder, bundle.ptr);
  session_builder_free(builder);
  check(processed, "processing Bob's pre-key bundle");

  // First message Alice -> Bob is a PreKeySignalMessage; Bob's reply completes the handshake.
  std::vector<uint8_t> hello(16, 'h');
  Ref<ciphertext_message> first;
  check(session_cipher_encrypt(alice_->cipher, hello.data(), hello.size(), &first.ptr),
        "Alice's first encrypt");
  if (ciphertext_message_get_type(first.ptr) != CIPHERTEXT_PREKEY_TYPE) {
    throw std::runtime_error("libsignal-protocol-c: Alice's first message is not a PreKeySignalMessage");
  }
  signal_buffer* first_wire = ciphertext_message_get_serialized(first.ptr);
  Ref<pre_key_signal_message> first_parsed;
  check(pre_key_signal_message_deserialize(&first_parsed.ptr, signal_buffer_data(first_wire),
                                           signal_buffer_len(first_wire), context_),
        "parsing Alice's PreKeySignalMessage");
  signal_buffer* plaintext = nullptr;
  check(session_cipher_decrypt_pre_key_signal_message(bob_->cipher, first_parsed.ptr, nullptr, &plaintext),
        "Bob decrypting Alice's first message");
  signal_buffer_free(plaintext);

  std::vector<uint8_t> out;
  if (!decrypt(Party::alice, encrypt(Party::bob, hello), out) || out != hello) {
    throw std::runtime_error("libsignal-protocol-c: Bob's reply did not decrypt at Alice");
  }
  // Alice must now send plain SignalMessages (steady state), not PreKeySignalMessages.
  std::vector<uint8_t> check_wire = encrypt(Party::alice, hello);
  if (!decrypt(Party::bob, check_wire, out) || out != hello) {
    throw std::runtime_error("libsignal-protocol-c: sessions did not reach steady state");
  }
}

SignalSessionPair::~SignalSessionPair() {
  alice_.reset();
  bob_.reset();
  if (context_ != nullptr) signal_context_destroy(context_);
}

SignalSessionPair::Side& SignalSessionPair::side(Party party) {
  return party == Party::alice ? *alice_ : *bob_;
}

std::vector<uint8_t> SignalSessionPair::encrypt(Party sender, const std::vector<uint8_t>& plaintext) {
  Ref<ciphertext_message> message;
  if (session_cipher_encrypt(side(sender).cipher, plaintext.data(), plaintext.size(), &message.ptr) !=
          SG_SUCCESS ||
      ciphertext_message_get_type(message.ptr) != CIPHERTEXT_SIGNAL_TYPE) {
    return {};
  }
  signal_buffer* wire = ciphertext_message_get_serialized(message.ptr);
  const uint8_t* data = signal_buffer_data(wire);
  return std::vector<uint8_t>(data, data + signal_buffer_len(wire));
}

bool SignalSessionPair::decrypt(Party receiver, const std::vector<uint8_t>& wire,
                                std::vector<uint8_t>& plaintext) {
  if (wire.empty()) return false;
  Ref<signal_message> message;
  if (signal_message_deserialize(&message.ptr, wire.data(), wire.size(), context_) != SG_SUCCESS)
    return false;
  signal_buffer* out = nullptr;
  if (session_cipher_decrypt_signal_message(side(receiver).cipher, message.ptr, nullptr, &out) !=
      SG_SUCCESS) {
    return false;
  }
  const uint8_t* data = signal_buffer_data(out);
  plaintext.assign(data, data + signal_buffer_len(out));
  signal_buffer_bzero_free(out);
  return true;
}

bool establish_signal_session_once() {
  try {
    SignalSessionPair pair;
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

}  // namespace samizdat::bench::signal_baseline
