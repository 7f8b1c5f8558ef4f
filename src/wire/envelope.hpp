// Envelope (proto/samizdat/envelope.proto): limits, validation and parsing of the
// unit the server stores and delivers.
#pragma once

#include <cstddef>

#include "samizdat/envelope.pb.h"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::wire {

inline constexpr std::size_t kMailboxIdSize = 32;
// Largest sealed ciphertext an envelope may carry. Bigger content (attachments) goes
// through the blob store; envelopes carry a reference.
inline constexpr std::size_t kMaxSealedSize = 64 * 1024;
// Largest serialized Envelope: the sealed bytes plus generous room for the other fields.
inline constexpr std::size_t kMaxEnvelopeSize = kMaxSealedSize + 256;

// Checks the fields an envelope from the server's store must have: a 32-byte mailbox,
// a non-empty sealed ciphertext within kMaxSealedSize, a receive time and an expiry
// after it. (The id may be 0 before the store assigns one.) A truncated encoding loses
// the trailing expiry, so truncation is caught here even when it falls on a field
// boundary. Errc::malformed / limit_exceeded otherwise.
Status validate_envelope(const Envelope& envelope);

// parse_message<Envelope>(bytes, kMaxEnvelopeSize) followed by validate_envelope.
Result<Envelope> parse_envelope(ByteView bytes);

}  // namespace samizdat::wire
