// Noise handshakes (spec rev. 34) with DH=25519, cipher=ChaChaPoly, hash=BLAKE2b.
// Any pattern from the pattern table (fundamental, one-way, deferred) with psk0..pskN
// modifiers; e.g. "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b".
// Replay of a first message is NOT detected here: Noise lets a responder accept a
// replayed IK/NK first message (it only fails to finish with the real initiator);
// replay protection lives in the transport layer's replay cache.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.hpp"
#include "crypto/noise/cipher_state.hpp"
#include "crypto/noise/handshake_pattern.hpp"
#include "crypto/noise/symmetric_state.hpp"
#include "crypto/secret.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::noise {

enum class Role { initiator, responder };

struct TransportKeys {
  CipherState send;  // initiator: first split key; responder: second
  CipherState receive;
  Bytes handshake_hash;  // h at the end of the handshake (channel binding)
};

struct HandshakeOptions {
  std::string protocol_name;  // e.g. "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
  Role role = Role::initiator;
  Bytes prologue;
  std::optional<X25519KeyPair> local_static;
  std::optional<X25519Public> remote_static;     // known in advance (IK/NK/KK ... patterns)
  std::vector<Secret<32>> psks;                  // in the order the pattern uses them
  std::optional<X25519KeyPair> local_ephemeral;  // deterministic tests (vectors) only
};

class HandshakeState {
 public:
  // Errc::invalid_argument for an unsupported name or missing keys/psks, with a clear message.
  static Result<HandshakeState> create(HandshakeOptions options);
  // Errc::protocol if not our turn / finished / after a failure; limit_exceeded over 65535 bytes.
  Result<Bytes> write_message(ByteView payload);
  // Returns the payload; auth_failed / malformed on bad input, after which this state is dead
  // (every further call fails with Errc::protocol): a handshake is not retried after bad input.
  Result<Bytes> read_message(ByteView message);
  bool is_complete() const;
  bool is_my_turn() const;
  const std::optional<X25519Public>& remote_static() const;  // learned or given
  ByteView handshake_hash() const;
  Result<TransportKeys> split();  // only once complete (and only once); Errc::protocol otherwise

  Role role() const { return role_; }
  const std::optional<X25519Public>& remote_ephemeral() const { return remote_ephemeral_; }

 private:
  HandshakeState() = default;
  Status mix_dh(Token token);
  Status mix_psk();
  std::size_t message_size(const std::vector<Token>& tokens, std::size_t payload_size) const;
  // Marks the handshake dead and wipes its secrets; returns the error to pass on.
  Error fail(Error error);

  Role role_ = Role::initiator;
  HandshakePattern pattern_;
  SymmetricState symmetric_;
  std::optional<X25519KeyPair> local_static_;
  std::optional<X25519KeyPair> local_ephemeral_;
  std::optional<X25519Public> remote_static_;
  std::optional<X25519Public> remote_ephemeral_;
  std::vector<Secret<32>> psks_;
  std::size_t next_psk_ = 0;
  std::size_t next_message_ = 0;
  bool broken_ = false;
  bool split_done_ = false;
};

}  // namespace samizdat::crypto::noise
