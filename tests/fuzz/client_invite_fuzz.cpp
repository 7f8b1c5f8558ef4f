// Invites are pasted by users from anywhere: parsing must never crash, and whatever
// parses must print back to something that parses to the same invite.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "client/invite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto invite = samizdat::client::Invite::parse(text);
  if (invite.ok()) {
    auto again = samizdat::client::Invite::parse(invite->to_string());
    if (!again.ok() || again->identity_key != invite->identity_key || again->device_id != invite->device_id) {
      __builtin_trap();
    }
  }
  return 0;
}
