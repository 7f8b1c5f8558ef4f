// The WebSocket message decoder reads bytes straight from the network (through a CDN or
// from any prober that found the secret path): arbitrary input split into arbitrary
// chunks must give messages or a clean error with a close code, never a crash, and a
// well-formed stream must round-trip.
//
// Input layout: byte 0 picks the side (bit 0: server expects masked frames), the
// message limit (bits 1-2) and seeds the chunking; odd byte 1 additionally re-encodes
// whatever was decoded and checks it decodes to the same messages.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "transport/wss/websocket_frame.hpp"

namespace {

using namespace samizdat;
using namespace samizdat::transport::ws;

struct Decoded {
  Opcode opcode;
  Bytes payload;
  bool operator==(const Decoded&) const = default;
};

std::vector<Decoded> decode_all(MessageDecoder& decoder, const std::uint8_t* data, std::size_t size,
                                std::uint32_t seed) {
  std::vector<Decoded> out;
  std::size_t offset = 0;
  while (offset < size && !decoder.failed()) {
    seed = seed * 1664525u + 1013904223u;
    const std::size_t limits[] = {1, 3, 17, 1500};
    std::size_t chunk = std::min<std::size_t>(size - offset, 1 + (seed >> 8) % limits[(seed >> 28) % 4]);
    if (seed & 1) {
      decoder.feed(ByteView(data + offset, chunk));
    } else {
      auto span = decoder.prepare(chunk);
      std::copy(data + offset, data + offset + chunk, span.begin());
      decoder.commit(chunk);
    }
    offset += chunk;
    for (;;) {
      auto next = decoder.next();
      if (!next.ok()) {
        if (decoder.close_code() != kCloseProtocolError && decoder.close_code() != kCloseTooBig)
          __builtin_trap();
        break;
      }
      if (!next->has_value()) break;
      const Message& message = **next;
      if ((static_cast<int>(message.opcode) & 0x8) && message.payload.size() > kMaxControlPayload)
        __builtin_trap();
      out.push_back({message.opcode, to_bytes(message.payload)});
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool masked = data[0] & 1;
  const std::size_t limits[] = {16, 200, 70000, 1 << 20};
  const std::size_t max_message = limits[(data[0] >> 1) & 3];
  MessageDecoder decoder(masked, max_message);
  auto messages = decode_all(decoder, data + 2, size - 2, data[0] | (data[1] << 8));
  for (const auto& m : messages) {
    if (!(static_cast<int>(m.opcode) & 0x8) && m.payload.size() > max_message) __builtin_trap();
  }
  if (data[1] & 1) {
    // Round trip: the decoded messages, re-encoded (data messages split in two
    // fragments), decode to the same list.
    Bytes wire;
    for (const auto& m : messages) {
      if (static_cast<int>(m.opcode) & 0x8) {
        append_frame(wire, m.opcode, true, m.payload, masked);
      } else {
        std::size_t half = m.payload.size() / 2;
        append_frame(wire, m.opcode, false, ByteView(m.payload).first(half), masked);
        append_frame(wire, Opcode::continuation, true, ByteView(m.payload).subspan(half), masked);
      }
    }
    MessageDecoder again(masked, max_message);
    auto round = decode_all(again, wire.data(), wire.size(), data[1]);
    if (again.failed() || round != messages) __builtin_trap();
  }
  return 0;
}
