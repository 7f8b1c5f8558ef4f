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
  return {};
}

Result<Envelope> parse_envelope(ByteView bytes) {
  auto envelope = SZ_TRY(parse_message<Envelope>(bytes, kMaxEnvelopeSize, "envelope"));
  SZ_CHECK(validate_envelope(envelope));
  return envelope;
}

}  // namespace samizdat::wire
