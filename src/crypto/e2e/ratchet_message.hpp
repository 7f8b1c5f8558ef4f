// Wire forms of Double Ratchet messages (hand-written, versioned, strictly parsed):
//
//   Message:        0x01 || ratchet_key(32) || previous_chain_length(u32) || message_number(u32)
//                        || ciphertext (AEAD output, >= 16 bytes)
//   PreKeyMessage:  0x02 || initiator_identity(32) || ephemeral_key(32) || signed_prekey_id(u32)
//                        || has_one_time_prekey(0|1) || [one_time_prekey_id(u32)] || Message
//
// An initiator sends PreKeyMessages until the first reply arrives (as in Signal), so the
// responder can set the session up from whichever of them arrives first.
#pragma once

#include <cstdint>

#include "crypto/e2e/x3dh.hpp"
#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::crypto::e2e {

enum class MessageType : std::uint8_t { message = 0x01, prekey_message = 0x02 };

inline constexpr std::size_t kMessageHeaderSize = 40;
inline constexpr std::size_t kMaxMessagePlaintextSize = 256 * 1024;

struct MessageHeader {
  X25519Public ratchet_key{};
  std::uint32_t previous_chain_length = 0;
  std::uint32_t message_number = 0;

  // The 40 header bytes that go into the AEAD associated data.
  void encode_to(Bytes& out) const;
};

struct RatchetMessage {
  MessageHeader header;
  Bytes ciphertext;

  Bytes encode() const;
  // Errc::malformed for anything but a well-formed Message.
  static Result<RatchetMessage> parse(ByteView bytes);
};

struct PreKeyMessage {
  X3dhHeader x3dh;
  RatchetMessage message;

  Bytes encode() const;
  static Result<PreKeyMessage> parse(ByteView bytes);
};

// What precedes the Message in a PreKeyMessage (0x02 up to the optional one-time prekey id),
// for a sender that seals the Message straight after it.
inline constexpr std::size_t kMaxPreKeyMessagePrefixSize = 1 + 32 + 32 + 4 + 1 + 4;
void encode_prekey_message_prefix(const X3dhHeader& x3dh, Bytes& out);

// The first byte, checked: lets a receiver route a PreKeyMessage to session set-up.
Result<MessageType> peek_message_type(ByteView bytes);

}  // namespace samizdat::crypto::e2e
