// Protobuf records from the server and the local disk are parsed with size limits;
// junk must be refused cleanly and anything accepted must re-encode and re-parse.
#include <cstddef>
#include <cstdint>

#include "samizdat/store.pb.h"
#include "wire/envelope.hpp"
#include "wire/message_codec.hpp"

using namespace samizdat;
using namespace samizdat::wire;

namespace {

template <class T>
void parse_store_record(ByteView bytes, const char* what) {
  auto parsed = parse_message<T>(bytes, 64 * 1024, what);
  if (!parsed.ok()) {
    if (parsed.error().code != Errc::malformed && parsed.error().code != Errc::limit_exceeded)
      __builtin_trap();
    return;
  }
  auto again = parse_message<T>(serialize_message(*parsed), 1 << 20, what);
  if (!again.ok()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes(data, size);
  auto envelope = parse_envelope(bytes);
  if (envelope.ok()) {
    if (!validate_envelope(*envelope).ok()) __builtin_trap();
    const Bytes encoded = serialize_message(*envelope);
    auto again = parse_envelope(encoded);
    if (!again.ok() || serialize_message(*again) != encoded) __builtin_trap();
  } else if (envelope.error().code != Errc::malformed && envelope.error().code != Errc::limit_exceeded) {
    __builtin_trap();
  } else if (envelope.error().message.empty()) {
    __builtin_trap();
  }
  parse_store_record<Contact>(bytes, "contact");
  parse_store_record<RatchetSession>(bytes, "ratchet session");
  parse_store_record<StoredMessage>(bytes, "stored message");
  parse_store_record<OutboxEntry>(bytes, "outbox entry");
  return 0;
}
