#include "crypto/e2e/ratchet_message.hpp"

#include <sodium.h>

#include "util/byte_reader.hpp"

namespace samizdat::crypto::e2e {
namespace {

constexpr std::size_t kTagSize = crypto_aead_chacha20poly1305_ietf_ABYTES;
constexpr std::size_t kMaxCiphertextSize = kMaxMessagePlaintextSize + kTagSize;

constexpr std::string_view kSubject = "ratchet message";

Error malformed(std::string what) {
  return make_error(Errc::malformed, std::string(kSubject) + " " + std::move(what));
}

Result<RatchetMessage> parse_body(ByteReader& reader) {
  RatchetMessage message;
  message.header.ratchet_key = SZ_TRY(reader.array<32>("ratchet key"));
  message.header.previous_chain_length = SZ_TRY(reader.u32("previous chain length"));
  message.header.message_number = SZ_TRY(reader.u32("message number"));
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
  append_u32_be(out, previous_chain_length);
  append_u32_be(out, message_number);
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
  ByteReader reader(bytes.subspan(1), kSubject);
  return parse_body(reader);
}

void encode_prekey_message_prefix(const X3dhHeader& x3dh, Bytes& out) {
  out.push_back(static_cast<std::uint8_t>(MessageType::prekey_message));
  append(out, x3dh.initiator_identity);
  append(out, x3dh.ephemeral_key);
  append_u32_be(out, x3dh.signed_prekey_id);
  out.push_back(x3dh.one_time_prekey_id ? 1 : 0);
  if (x3dh.one_time_prekey_id) append_u32_be(out, *x3dh.one_time_prekey_id);
}

Bytes PreKeyMessage::encode() const {
  Bytes out;
  out.reserve(kMaxPreKeyMessagePrefixSize + 1 + kMessageHeaderSize + message.ciphertext.size());
  encode_prekey_message_prefix(x3dh, out);
  append(out, message.encode());
  return out;
}

Result<PreKeyMessage> PreKeyMessage::parse(ByteView bytes) {
  MessageType type = SZ_TRY(peek_message_type(bytes));
  if (type != MessageType::prekey_message)
    return malformed("is a normal message where a prekey message was expected");
  ByteReader reader(bytes.subspan(1), kSubject);
  PreKeyMessage out;
  out.x3dh.initiator_identity = SZ_TRY(reader.array<32>("initiator identity"));
  out.x3dh.ephemeral_key = SZ_TRY(reader.array<32>("ephemeral key"));
  out.x3dh.signed_prekey_id = SZ_TRY(reader.u32("signed prekey id"));
  std::uint8_t has_opk = SZ_TRY(reader.u8("one-time prekey flag"));
  if (has_opk > 1) return malformed("has an invalid one-time prekey flag");
  if (has_opk == 1) out.x3dh.one_time_prekey_id = SZ_TRY(reader.u32("one-time prekey id"));
  auto inner_type = reader.u8("inner message type");
  if (!inner_type.ok() || *inner_type != static_cast<std::uint8_t>(MessageType::message)) {
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
