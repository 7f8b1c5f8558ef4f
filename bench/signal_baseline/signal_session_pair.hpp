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

 private:
  struct Side;
  Side& side(Party party);

  OpenSslCryptoProvider provider_;
  signal_context* context_ = nullptr;
  std::unique_ptr<Side> alice_;
  std::unique_ptr<Side> bob_;
};

// Builds the whole pair from scratch (identities, pre-keys, X3DH, first message each way) and
// tears it down; returns false on any library error. This is libsignal-protocol-c's
// counterpart of one X3DH session set-up.
bool establish_signal_session_once();

}  // namespace samizdat::bench::signal_baseline
