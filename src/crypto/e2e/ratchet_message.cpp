#include "crypto/e2e/ratchet_message.hpp"

#include <sodium.h>

#include "crypto/e2e/byte_reader.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::size_t kTagSize = crypto_aead_chacha20poly1305_ietf_ABYTES;
constexpr std::size_t kMaxCiphertextSize = kMaxMessagePlaintextSize + kTagSize;

Error malformed(std::string what) {
  return make_error(Errc::malformed, "ratchet message " + std::move(what));
}

Result<RatchetMessage> parse_body(ByteReader& reader) {
  RatchetMessage message;
  if (!reader.read_array(message.header.ratchet_key) ||
      !reader.read_u32(message.header.previous_chain_length) ||
      !reader.read_u32(message.header.message_number)) {
    return malformed("is truncated (header)");
  }
  if (reader.remaining() < kTagSize) return malformed("is truncated (ciphertext shorter than its tag)");
  if (reader.remaining() > kMaxCiphertextSize) {
    return make_error(Errc::limit_exceeded, "ratchet message is larger than the maximum message size");
  }
  ByteView ciphertext = reader.rest();
  message.ciphertext.assign(ciphertext.begin(), ciphertext.end());
  return message;
}

}  // namespace

void MessageHeader::encode_to(Bytes& out) const {
  append(out, ratchet_key);
  put_u32(out, previous_chain_length);
  put_u32(out, message_number);
}

Bytes RatchetMessage::encode() const {
  Bytes out;
  out.reserve(1 + kMessageHeaderSize + ciphertext.size());
  out.push_back(static_cast<std::uint8_t>(MessageType::message));
  header.encode_to(out);
  append(out, ciphertext);
  return out;
}

Result<RatchetMessage> RatchetMessage::parse(ByteView bytes) {
  MessageType type = SZ_TRY(peek_message_type(bytes));
  if (type != MessageType::message)
    return malformed("is a prekey message where a normal message was expected");
  ByteReader reader(bytes.subspan(1));
  return parse_body(reader);
}

Bytes PreKeyMessage::encode() const {
  Bytes out;
  out.reserve(1 + 32 + 32 + 4 + 1 + 4 + 1 + kMessageHeaderSize + message.ciphertext.size());
  out.push_back(static_cast<std::uint8_t>(MessageType::prekey_message));
  append(out, x3dh.initiator_identity);
  append(out, x3dh.ephemeral_key);
  put_u32(out, x3dh.signed_prekey_id);
  out.push_back(x3dh.one_time_prekey_id ? 1 : 0);
  if (x3dh.one_time_prekey_id) put_u32(out, *x3dh.one_time_prekey_id);
  append(out, message.encode());
  return out;
}

Result<PreKeyMessage> PreKeyMessage::parse(ByteView bytes) {
  MessageType type = SZ_TRY(peek_message_type(bytes));
  if (type != MessageType::prekey_message)
    return malformed("is a normal message where a prekey message was expected");
  ByteReader reader(bytes.subspan(1));
  PreKeyMessage out;
  std::uint8_t has_opk = 0;
  if (!reader.read_array(out.x3dh.initiator_identity) || !reader.read_array(out.x3dh.ephemeral_key) ||
      !reader.read_u32(out.x3dh.signed_prekey_id) || !reader.read_u8(has_opk)) {
    return malformed("is truncated (X3DH header)");
  }
  if (has_opk > 1) return malformed("has an invalid one-time prekey flag");
  if (has_opk == 1) {
    std::uint32_t id = 0;
    if (!reader.read_u32(id)) return malformed("is truncated (one-time prekey id)");
    out.x3dh.one_time_prekey_id = id;
  }
  std::uint8_t inner_type = 0;
  if (!reader.read_u8(inner_type) || inner_type != static_cast<std::uint8_t>(MessageType::message)) {
    return malformed("does not contain a normal message after its X3DH header");
  }
  out.message = SZ_TRY(parse_body(reader));
  return out;
}

Result<MessageType> peek_message_type(ByteView bytes) {
  if (bytes.empty()) return malformed("is empty");
  switch (bytes[0]) {
    case static_cast<std::uint8_t>(MessageType::message):
      return MessageType::message;
    case static_cast<std::uint8_t>(MessageType::prekey_message):
      return MessageType::prekey_message;
    default:
      return malformed("has unknown type " + std::to_string(bytes[0]) + " (from a newer app version?)");
  }
}

}  // namespace samizdat::crypto::e2e
