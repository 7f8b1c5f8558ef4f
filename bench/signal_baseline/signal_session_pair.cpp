#include "signal_baseline/signal_session_pair.hpp"

#include <key_helper.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>

#include <algorithm>
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
  signal_buffer* pre_key_record = nullptr;
  int result = session_pre_key_serialize(&pre_key_record, pre_key);
  if (result == SG_SUCCESS) {
    bob_one_time_pre_key_.assign(signal_buffer_data(pre_key_record),
                                 signal_buffer_data(pre_key_record) + signal_buffer_len(pre_key_record));
    bob_one_time_pre_key_id_ = session_pre_key_get_id(pre_key);
    signal_buffer_bzero_free(pre_key_record);
    result = signal_protocol_key_helper_generate_signed_pre_key(&signed_pre_key.ptr, bob_->store.identity(),
                                                                1, 0, context_);
  }
  if (result == SG_SUCCESS)
    result = signal_protocol_signed_pre_key_store_key(bob_->store.context(), signed_pre_key.ptr);
  if (result == SG_SUCCESS) {
    result = session_pre_key_bundle_create(
        &bob_bundle_, bob_->store.registration_id(), kDeviceId, session_pre_key_get_id(pre_key),
        ec_key_pair_get_public(session_pre_key_get_key_pair(pre_key)),
        session_signed_pre_key_get_id(signed_pre_key.ptr),
        ec_key_pair_get_public(session_signed_pre_key_get_key_pair(signed_pre_key.ptr)),
        session_signed_pre_key_get_signature(signed_pre_key.ptr),
        session_signed_pre_key_get_signature_len(signed_pre_key.ptr),
        ratchet_identity_key_pair_get_public(bob_->store.identity()));
  }
  signal_protocol_key_helper_key_list_free(pre_keys);
  check(result, "publishing Bob's pre-keys");

  std::vector<uint8_t> hello(16, 'h');
  if (!restart_session(hello)) throw std::runtime_error("libsignal-protocol-c: first contact failed");
  // Bob's reply completes the handshake.
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
  if (bob_bundle_ != nullptr) SIGNAL_UNREF(bob_bundle_);
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

bool SignalSessionPair::restart_session(const std::vector<uint8_t>& first_message) {
  signal_protocol_session_delete_session(alice_->store.context(), &kBobAddress);
  signal_protocol_session_delete_session(bob_->store.context(), &kAliceAddress);
  bob_->store.pre_keys[bob_one_time_pre_key_id_] = bob_one_time_pre_key_;

  session_builder* builder = nullptr;
  if (session_builder_create(&builder, alice_->store.context(), &kBobAddress, context_) != SG_SUCCESS)
    return false;
  int processed = session_builder_process_pre_key_bundle(builder, bob_bundle_);
  session_builder_free(builder);
  if (processed != SG_SUCCESS) return false;

  Ref<ciphertext_message> first;
  if (session_cipher_encrypt(alice_->cipher, first_message.data(), first_message.size(), &first.ptr) !=
          SG_SUCCESS ||
      ciphertext_message_get_type(first.ptr) != CIPHERTEXT_PREKEY_TYPE) {
    return false;
  }
  signal_buffer* wire = ciphertext_message_get_serialized(first.ptr);
  Ref<pre_key_signal_message> parsed;
  if (pre_key_signal_message_deserialize(&parsed.ptr, signal_buffer_data(wire), signal_buffer_len(wire),
                                         context_) != SG_SUCCESS) {
    return false;
  }
  signal_buffer* plaintext = nullptr;
  if (session_cipher_decrypt_pre_key_signal_message(bob_->cipher, parsed.ptr, nullptr, &plaintext) !=
      SG_SUCCESS) {
    return false;
  }
  bool same = signal_buffer_len(plaintext) == first_message.size() &&
              std::equal(first_message.begin(), first_message.end(), signal_buffer_data(plaintext));
  signal_buffer_bzero_free(plaintext);
  // Bob must have consumed the one-time pre-key, as a real first contact does.
  return same && bob_->store.pre_keys.count(bob_one_time_pre_key_id_) == 0;
}

}  // namespace samizdat::bench::signal_baseline
