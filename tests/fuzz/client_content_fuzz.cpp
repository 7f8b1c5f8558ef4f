// Decrypted message content comes from another user: parsing it must never crash.
#include <cstddef>
#include <cstdint>

#include "client/message_content.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto content = samizdat::client::parse_content(samizdat::ByteView(data, size));
  if (content.ok() && content->has_text() && !samizdat::client::is_valid_utf8(content->text()))
    __builtin_trap();
  return 0;
}
