// The end-to-end content of one message (MessageContent in proto/samizdat/store.proto):
// a text written by the user, a delivery/read receipt, or a network map request/reply
// between contacts (client/contact_map.hpp). It is the plaintext of a Double Ratchet
// message, so only the two ends see it.
#pragma once

#include <cstddef>
#include <vector>

#include "samizdat/store.pb.h"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::client {

inline constexpr std::size_t kMessageIdSize = 16;
// Keeps a sealed envelope well inside wire::kMaxSealedSize after ratchet, sealed-sender
// and padding overheads.
inline constexpr std::size_t kMaxTextSize = 32 * 1024;
inline constexpr std::size_t kMaxReceiptIds = 256;
// Room for the largest body: a contact's map reply (contact_map.hpp kMaxContactMapBytes).
inline constexpr std::size_t kMaxContentSize = 48 * 1024 + 1024;

Bytes new_message_id();

// Errc::limit_exceeded for text over kMaxTextSize, invalid_argument for text that is not
// UTF-8 or is empty.
Result<wire::MessageContent> text_content(std::string_view text, std::int64_t sent_at_ms);
wire::MessageContent receipt_content(wire::ReceiptKind kind, const std::vector<Bytes>& message_ids,
                                     std::int64_t sent_at_ms);

// Parses decrypted bytes strictly: Errc::malformed for anything that is not one valid
// text, receipt, map request or map reply (wrong id sizes, empty body, bad UTF-8, too many
// receipt ids). A malformed map_digest is dropped rather than failing the message: it is a
// hint, and the user's text must not be lost over it. Map reply bytes are checked later.
Result<wire::MessageContent> parse_content(ByteView plaintext);

bool is_valid_utf8(std::string_view text);

}  // namespace samizdat::client
