// Noise handshake patterns (spec rev. 34, sections 7, 9, 18) as data: pre-messages
// and message token lists, looked up by name with psk modifiers applied.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace samizdat::crypto::noise {

enum class Token { e, s, ee, es, se, ss, psk };

std::string_view to_string(Token token);

struct HandshakePattern {
  std::string name;                          // e.g. "IKpsk2"
  std::vector<Token> initiator_premessage;   // keys the responder knows in advance
  std::vector<Token> responder_premessage;   // keys the initiator knows in advance
  std::vector<std::vector<Token>> messages;  // even index: initiator -> responder
  bool has_psk = false;                      // psk modifiers change how "e" is hashed

  bool one_way() const { return messages.size() == 1; }
  std::size_t psk_count() const;
};

// Parsed "Noise_<pattern>_25519_ChaChaPoly_BLAKE2b". Errc::invalid_argument for any other
// DH/cipher/hash, an unknown pattern, or a bad modifier (e.g. psk3 on a two-message pattern).
Result<HandshakePattern> pattern_for_protocol(std::string_view protocol_name);

// "IK", "XXpsk3", "NKpsk0+psk2": the base pattern with modifiers applied.
Result<HandshakePattern> pattern_by_name(std::string_view name);

}  // namespace samizdat::crypto::noise
