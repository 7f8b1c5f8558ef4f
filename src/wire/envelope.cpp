#include "wire/envelope.hpp"

#include <fmt/format.h>

#include "wire/message_codec.hpp"

namespace samizdat::wire {

Status validate_envelope(const Envelope& envelope) {
  if (envelope.mailbox().size() != kMailboxIdSize) {
    return make_error(Errc::malformed, fmt::format("envelope mailbox id is {} bytes, expected {}",
                                                   envelope.mailbox().size(), kMailboxIdSize));
  }
  if (envelope.sealed().empty()) {
    return make_error(Errc::malformed, "envelope carries no sealed ciphertext");
  }
  if (envelope.sealed().size() > kMaxSealedSize) {
    return make_error(Errc::limit_exceeded,
                      fmt::format("envelope ciphertext is {} bytes, more than the {} allowed; "
                                  "send large content as an attachment",
                                  envelope.sealed().size(), kMaxSealedSize));
  }
  if (envelope.received_at_ms() == 0) {
    return make_error(Errc::malformed,
                      "envelope has no server receive time (truncated or not from a server)");
  }
  if (envelope.expires_at_ms() <= envelope.received_at_ms()) {
    return make_error(Errc::malformed, fmt::format("envelope expiry {} is not after its receive time {} "
                                                   "(truncated or corrupted)",
                                                   envelope.expires_at_ms(), envelope.received_at_ms()));
  }
  return {};
}

Result<Envelope> parse_envelope(ByteView bytes) {
  auto envelope = SZ_TRY(parse_message<Envelope>(bytes, kMaxEnvelopeSize, "envelope"));
  SZ_CHECK(validate_envelope(envelope));
  return envelope;
}

}  // namespace samizdat::wire
