// The frame decoder reads bytes straight from the network: arbitrary input, split
// into arbitrary chunks, must produce frames or a clean error, never a crash, and
// whatever it accepts must be exactly what was sealed.
//
// Input layout: byte 0 selects the mode and seeds the chunking.
//   even: the rest is raw wire bytes for a decoder with a fixed key (junk, probes).
//   odd:  the rest describes frames (type, size, padding, payload) that are sealed with
//         the same key, optionally with one byte flipped, and fed back in; accepted
//         frames must be a prefix of the sealed ones, and an unmodified stream must
//         round-trip completely. This reaches the code behind the AEAD check.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "crypto/secret.hpp"
#include "wire/frame_codec.hpp"

namespace {

using namespace samizdat;
using namespace samizdat::wire;

struct Sealed {
  FrameType type;
  Bytes payload;
};

const crypto::Secret<32>& fixed_key() {
  static const crypto::Secret<32> key(Bytes(32, 0x42));
  return key;
}

// Tiny deterministic generator for chunk sizes (the fuzzer controls the seed).
struct Chunker {
  std::uint32_t state;
  std::size_t next(std::size_t remaining) {
    state = state * 1664525u + 1013904223u;
    const std::size_t limits[] = {1, 2, 7, 64, 1500, 20000};
    return std::min<std::size_t>(remaining, 1 + (state >> 8) % limits[(state >> 28) % 6]);
  }
};

std::vector<Sealed> feed_and_drain(FrameDecoder& decoder, ByteView wire, Chunker chunker) {
  std::vector<Sealed> out;
  bool failed = false;
  for (std::size_t offset = 0; offset < wire.size();) {
    const std::size_t n = chunker.next(wire.size() - offset);
    if (chunker.state & 1) {
      decoder.feed(wire.subspan(offset, n));
    } else {
      auto space = decoder.prepare(n);
      std::copy_n(wire.begin() + static_cast<std::ptrdiff_t>(offset), n, space.begin());
      decoder.commit(n);
    }
    offset += n;
    for (;;) {
      auto next = decoder.next();
      if (!next.ok()) {
        failed = true;
        break;
      }
      if (failed) __builtin_trap();  // a failed decoder must stay failed
      if (!next->has_value()) {
        if (decoder.bytes_needed() == 0) __builtin_trap();  // waiting, so something is needed
        break;
      }
      const Frame& frame = **next;
      if (frame.type != FrameType::data && frame.type != FrameType::close) __builtin_trap();
      if (frame.payload.size() > kMaxFramePayload) __builtin_trap();
      out.push_back({frame.type, to_bytes(frame.payload)});
    }
  }
  if (failed != decoder.failed()) __builtin_trap();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Chunker chunker{data[0] * 2654435761u};
  ByteView rest(data + 1, size - 1);
  FrameDecoder decoder(fixed_key());

  if ((data[0] & 1) == 0) {
    feed_and_drain(decoder, rest, chunker);
    return 0;
  }

  // Structured mode: [flip_hi flip_lo] then records [type][size_hi size_lo][padding] payload.
  if (rest.size() < 2) return 0;
  const std::size_t flip_at = (std::size_t{rest[0]} << 8) | rest[1];
  rest = rest.subspan(2);
  FrameEncoder encoder(fixed_key(), PaddingPolicy::uniform(64));
  Bytes wire;
  std::vector<Sealed> expected;
  while (rest.size() >= 4) {
    const auto type = static_cast<FrameType>(1 + rest[0] % 3);
    const std::size_t wanted = ((std::size_t{rest[1]} << 8) | rest[2]) % (kMaxFramePayload + 2);
    const std::size_t padding = rest[3];
    rest = rest.subspan(4);
    const ByteView payload = rest.first(std::min(wanted, rest.size()));
    rest = rest.subspan(payload.size());
    auto status = (padding & 0x80) ? encoder.seal(type, payload, wire)
                                   : encoder.seal_padded(type, payload, padding, wire);
    if (!status.ok()) {
      if (payload.size() <= kMaxFramePayload) __builtin_trap();  // legal frames always seal
      continue;
    }
    if (type != FrameType::padding) expected.push_back({type, to_bytes(payload)});
  }
  const bool flipped = flip_at < wire.size() * 2 && flip_at % 2 == 1;  // flip about half the time
  if (flipped) wire[flip_at / 2] ^= 0x01;

  const auto got = feed_and_drain(decoder, wire, chunker);
  if (got.size() > expected.size()) __builtin_trap();
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i].type != expected[i].type || got[i].payload != expected[i].payload) __builtin_trap();
  }
  if (!flipped && (got.size() != expected.size() || decoder.failed() || decoder.buffered() != 0)) {
    __builtin_trap();  // an untouched stream must round-trip completely
  }
  if (flipped && !decoder.failed() && decoder.buffered() == 0) __builtin_trap();  // tampering went unnoticed
  return 0;
}
