// The frame wire format is a specification other implementations must match
// (docs/PROTOCOL.md, "Frame codec"). This rebuilds frames from the documented
// construction with raw libsodium calls and compares byte for byte.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>

#include "crypto/secret.hpp"
#include "util/encoding.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::wire {
namespace {

constexpr std::string_view kFirstFrameVector = "681dffc1c2ff7b6e14daa9d6357245afdbafb0fe81c2ffd5b28b";

Bytes documented_frame(ByteView key, std::uint64_t counter, std::uint8_t type, ByteView payload,
                       std::size_t padding) {
  std::array<std::uint8_t, 32> aead_key{}, mask_key{};
  crypto_kdf_derive_from_key(aead_key.data(), 32, 1, "SzFrame1", key.data());
  crypto_kdf_derive_from_key(mask_key.data(), 32, 2, "SzFrame1", key.data());
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<std::uint8_t>(counter >> (8 * i));

  Bytes plaintext{type, static_cast<std::uint8_t>(payload.size() >> 8),
                  static_cast<std::uint8_t>(payload.size())};
  append(plaintext, payload);
  plaintext.resize(plaintext.size() + padding, 0);
  const std::size_t length = plaintext.size() + 16;
  std::array<std::uint8_t, 2> mask{};
  crypto_stream_chacha20_ietf(mask.data(), mask.size(), nonce.data(), mask_key.data());
  Bytes frame(2 + length);
  frame[0] = static_cast<std::uint8_t>((length >> 8) ^ mask[0]);
  frame[1] = static_cast<std::uint8_t>(length ^ mask[1]);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(frame.data() + 2, &written, plaintext.data(), plaintext.size(),
                                            frame.data(), 2, nullptr, nonce.data(), aead_key.data());
  return frame;
}

TEST(FrameFormat, SealedBytesAreExactlyTheDocumentedConstruction) {
  crypto::ensure_initialized();
  Bytes key(32);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  FrameEncoder encoder{crypto::Secret<32>(key)};
  Bytes wire;
  ASSERT_TRUE(encoder.seal_padded(FrameType::data, as_bytes("hello"), 0, wire).ok());
  ASSERT_TRUE(encoder.seal_padded(FrameType::padding, {}, 10, wire).ok());
  ASSERT_TRUE(encoder.seal_padded(FrameType::close, as_bytes("bye"), 3, wire).ok());

  Bytes expected = documented_frame(key, 0, 1, as_bytes("hello"), 0);
  append(expected, documented_frame(key, 1, 2, {}, 10));
  append(expected, documented_frame(key, 2, 3, as_bytes("bye"), 3));
  EXPECT_EQ(hex_encode(wire), hex_encode(expected));

  // Pinned so an accidental format change shows up in review (and as a test vector in
  // docs/PROTOCOL.md): key = 00 01 .. 1f, frame 0, data "hello", no padding.
  EXPECT_EQ(hex_encode(ByteView(wire).first(26)), kFirstFrameVector);
}

}  // namespace
}  // namespace samizdat::wire
