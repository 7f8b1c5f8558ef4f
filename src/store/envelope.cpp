#include "store/envelope.hpp"

#include "util/encoding.hpp"

namespace samizdat::store {

std::string describe_mailbox(const MailboxId& mailbox) {
  return "mailbox " + hex_encode(ByteView(mailbox.data(), 4)) + "…";
}

}  // namespace samizdat::store
