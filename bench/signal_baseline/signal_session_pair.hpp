#pragma once
// Two libsignal-protocol-c parties, Alice and Bob, with established Double Ratchet sessions:
// Alice processes Bob's pre-key bundle (X3DH), sends one PreKeySignalMessage, Bob replies
// once, so both sides are in steady state before anything is measured.

#include <signal_protocol.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "signal_baseline/in_memory_store.hpp"
#include "signal_baseline/openssl_crypto_provider.hpp"

namespace samizdat::bench::signal_baseline {

enum class Party { alice, bob };

class SignalSessionPair {
 public:
  // Sets everything up and exchanges the two warm-up messages; throws std::runtime_error
  // if the library reports an error (a broken baseline must not produce numbers).
  SignalSessionPair();
  ~SignalSessionPair();
  SignalSessionPair(const SignalSessionPair&) = delete;
  SignalSessionPair& operator=(const SignalSessionPair&) = delete;

  // Encrypts `plaintext` from `sender` to the other party and returns the serialised
  // SignalMessage as it would go on the wire. Returns an empty vector on failure.
  std::vector<uint8_t> encrypt(Party sender, const std::vector<uint8_t>& plaintext);

  // Parses and decrypts a serialised SignalMessage at `receiver` into `plaintext`.
  // Returns false if the library rejects it.
  bool decrypt(Party receiver, const std::vector<uint8_t>& wire, std::vector<uint8_t>& plaintext);

  // Drops both sessions and sets a new one up as a first contact does: Alice processes Bob's
  // pre-key bundle (X3DH, ratchet start) and encrypts `first_message`; Bob parses the
  // PreKeySignalMessage and decrypts it (X3DH, ratchet start, one-time pre-key consumed).
  // Bob's identity, signed pre-key and bundle are reused; the one-time pre-key he consumed is
  // put back first, so no key generation for Bob is measured. Returns false on any library
  // error. Afterwards Alice still sends PreKeySignalMessages until Bob replies.
  bool restart_session(const std::vector<uint8_t>& first_message);

 private:
  struct Side;
  Side& side(Party party);

  OpenSslCryptoProvider provider_;
  signal_context* context_ = nullptr;
  std::unique_ptr<Side> alice_;
  std::unique_ptr<Side> bob_;
  std::vector<uint8_t> bob_one_time_pre_key_;  // serialised record, re-stored per restart
  uint32_t bob_one_time_pre_key_id_ = 0;
  session_pre_key_bundle* bob_bundle_ = nullptr;
};

}  // namespace samizdat::bench::signal_baseline
