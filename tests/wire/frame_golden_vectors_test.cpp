// The frame codec against frozen wire bytes (tests/vectors/wire-frames.json): a fixed key
// and a fixed sequence of frames, with fixed and with policy-chosen padding. A changed
// subkey derivation, nonce, length mask or padding draw fails here although an encoder and
// decoder built from the same code would still agree.
#include <gtest/gtest.h>

#include "crypto/secret.hpp"
#include "vectors/golden_vectors.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::wire {
namespace {

using golden::hex_field;
using golden::Json;

PaddingPolicy policy_from(const Json& policy) {
  auto kind = policy.at("kind").get<std::string>();
  if (kind == "uniform") return PaddingPolicy::uniform(policy.at("max_padding").get<std::size_t>());
  if (kind == "distribution_from_seed")
    return PaddingPolicy::distribution_from_seed(hex_field(policy, "seed"));
  throw std::runtime_error("unknown padding policy " + kind);
}

FrameType type_from(const Json& frame) {
  auto name = frame.at("type").get<std::string>();
  if (name == "data") return FrameType::data;
  if (name == "close") return FrameType::close;
  throw std::runtime_error("unknown frame type " + name);
}

// Seals one frame as the vector describes.
Status seal(FrameEncoder& encoder, const Json& frame, Bytes& out) {
  auto call = frame.at("call").get<std::string>();
  if (call == "seal_padded") {
    return encoder.seal_padded(type_from(frame), hex_field(frame, "payload"),
                               frame.at("padding").get<std::size_t>(), out);
  }
  if (call == "seal") return encoder.seal(type_from(frame), hex_field(frame, "payload"), out);
  if (call == "seal_chaff_of_size")
    return encoder.seal_chaff_of_size(frame.at("wire_size").get<std::size_t>(), out);
  throw std::runtime_error("unknown call " + call);
}

TEST(GoldenVectors, SealedFramesMatchTheFrozenWireBytesAndDecode) {
  for (const auto& vector : golden::load_vectors("wire-frames.json")) {
    crypto::Secret<kFrameKeySize> key(hex_field(vector, "key"));
    FrameEncoder encoder(key, policy_from(vector.at("policy")));
    const Json& frames = vector.at("frames");
    const Json& expected = vector.at("expected").at("wire");
    ASSERT_EQ(frames.size(), expected.size());
    Bytes stream;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      Bytes wire;
      auto sealed = seal(encoder, frames[i], wire);
      ASSERT_TRUE(sealed.ok()) << "frame " << i << ": " << sealed.error().describe();
      EXPECT_EQ(hex_encode(wire), expected[i].get<std::string>()) << "frame " << i;
      append(stream, *hex_decode(expected[i].get<std::string>()));
    }

    // The frozen bytes decode to the data and close frames; chaff is dropped silently.
    FrameDecoder decoder(key);
    decoder.feed(stream);
    for (const auto& frame : frames) {
      if (frame.at("call") == "seal_chaff_of_size") continue;
      auto next = decoder.next();
      ASSERT_TRUE(next.ok()) << next.error().describe();
      ASSERT_TRUE(next->has_value());
      EXPECT_EQ((*next)->type, type_from(frame));
      EXPECT_EQ(hex_encode((*next)->payload), frame.at("payload").get<std::string>());
    }
    auto end = decoder.next();
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end->has_value());
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

}  // namespace
}  // namespace samizdat::wire
