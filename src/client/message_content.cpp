#include "client/message_content.hpp"

#include "client/contact_map.hpp"
#include "crypto/secret.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {

Bytes new_message_id() { return crypto::random_bytes(kMessageIdSize); }

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Result<wire::MessageContent> text_content(std::string_view text, std::int64_t sent_at_ms) {
  if (text.empty()) return make_error(Errc::invalid_argument, "the message is empty: nothing to send");
  if (text.size() > kMaxTextSize) {
    return make_error(Errc::limit_exceeded, "the message is " + std::to_string(text.size()) +
                                                " bytes; the limit is " + std::to_string(kMaxTextSize) +
                                                ": split it");
  }
  if (!is_valid_utf8(text)) return make_error(Errc::invalid_argument, "the message is not valid UTF-8 text");
  wire::MessageContent content;
  Bytes id = new_message_id();
  content.set_message_id(id.data(), id.size());
  content.set_sent_at_ms(static_cast<std::uint64_t>(sent_at_ms));
  content.set_text(std::string(text));
  return content;
}

wire::MessageContent receipt_content(wire::ReceiptKind kind, const std::vector<Bytes>& message_ids,
                                     std::int64_t sent_at_ms) {
  wire::MessageContent content;
  Bytes id = new_message_id();
  content.set_message_id(id.data(), id.size());
  content.set_sent_at_ms(static_cast<std::uint64_t>(sent_at_ms));
  auto* receipt = content.mutable_receipt();
  receipt->set_kind(kind);
  for (const auto& message_id : message_ids) receipt->add_message_ids(message_id.data(), message_id.size());
  return content;
}

Result<wire::MessageContent> parse_content(ByteView plaintext) {
  auto content =
      SZ_TRY(wire::parse_message<wire::MessageContent>(plaintext, kMaxContentSize, "message content"));
  if (content.message_id().size() != kMessageIdSize) {
    return make_error(
        Errc::malformed,
        "message content has a " + std::to_string(content.message_id().size()) + "-byte id (expected 16)");
  }
  if (content.has_map_digest()) {
    const auto& digest = content.map_digest();
    if (digest.version() == 0 || digest.hash().size() != kContactMapHashSize ||
        digest.root().size() != kContactMapRootSize) {
      content.clear_map_digest();
    }
  }
  switch (content.body_case()) {
    case wire::MessageContent::kMapRequest:
      if (content.map_request().version() == 0 ||
          content.map_request().hash().size() != kContactMapHashSize) {
        return make_error(Errc::malformed, "a contact's map request names no valid map");
      }
      return content;
    case wire::MessageContent::kMapReply:
      return content;
    case wire::MessageContent::kText:
      if (content.text().empty() || content.text().size() > kMaxTextSize || !is_valid_utf8(content.text())) {
        return make_error(Errc::malformed, "message text is empty, too long or not UTF-8");
      }
      return content;
    case wire::MessageContent::kReceipt: {
      const auto& receipt = content.receipt();
      if (receipt.kind() != wire::RECEIPT_KIND_DELIVERED && receipt.kind() != wire::RECEIPT_KIND_READ) {
        return make_error(Errc::malformed, "receipt of unknown kind");
      }
      if (receipt.message_ids_size() == 0 ||
          static_cast<std::size_t>(receipt.message_ids_size()) > kMaxReceiptIds) {
        return make_error(Errc::malformed, "receipt names no message or too many");
      }
      for (const auto& id : receipt.message_ids()) {
        if (id.size() != kMessageIdSize)
          return make_error(Errc::malformed, "receipt names a malformed message id");
      }
      return content;
    }
    default:
      return make_error(Errc::malformed, "message content has no body (a newer samizdat may have sent it)");
  }
}

}  // namespace samizdat::client
