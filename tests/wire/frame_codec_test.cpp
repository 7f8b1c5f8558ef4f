// The frame codec as a censor and a peer see it: frames round-trip in order, any
// interference kills the connection, and the bytes on the wire look random.
#include "wire/frame_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "crypto/secret.hpp"

namespace samizdat::wire {
namespace {

using crypto::Secret;

struct SentFrame {
  FrameType type;
  Bytes payload;
};

std::vector<PaddingPolicy> every_policy() {
  const std::array<std::uint16_t, 5> buckets{64, 256, 1024, 4096, kMaxFrameWireSize};
  return {PaddingPolicy::none(), PaddingPolicy::uniform(300), *PaddingPolicy::buckets(buckets),
          PaddingPolicy::distribution_from_seed(as_bytes("endpoint seed"))};
}

Bytes random_payload(std::mt19937& rng, std::size_t size) {
  Bytes payload(size);
  for (auto& byte : payload) byte = static_cast<std::uint8_t>(rng());
  return payload;
}

// Mostly small payloads (chat), sometimes up to the maximum (attachments).
std::size_t random_payload_size(std::mt19937& rng) {
  if (rng() % 8 == 0) return rng() % (kMaxFramePayload + 1);
  return rng() % 600;
}

// Seals `count` frames (with chaff in between) and returns the wire bytes plus what
// the receiver must see.
Bytes seal_stream(FrameEncoder& encoder, std::mt19937& rng, int count, std::vector<SentFrame>& expected) {
  Bytes wire;
  for (int i = 0; i < count; ++i) {
    if (rng() % 5 == 0) {
      EXPECT_TRUE(encoder.seal_chaff(wire).ok());
    }
    const FrameType type = rng() % 10 == 0 ? FrameType::close : FrameType::data;
    Bytes payload = random_payload(rng, random_payload_size(rng));
    EXPECT_TRUE(encoder.seal(type, payload, wire).ok());
    expected.push_back({type, std::move(payload)});
  }
  return wire;
}

std::vector<SentFrame> drain(FrameDecoder& decoder) {
  std::vector<SentFrame> frames;
  for (;;) {
    auto next = decoder.next();
    EXPECT_TRUE(next.ok()) << next.error().describe();
    if (!next.ok() || !next->has_value()) return frames;
    frames.push_back({(*next)->type, to_bytes((*next)->payload)});
  }
}

void expect_same_frames(const std::vector<SentFrame>& got, const std::vector<SentFrame>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type, expected[i].type) << "frame " << i;
    EXPECT_EQ(got[i].payload, expected[i].payload) << "frame " << i;
  }
}

// The error every out-of-sequence or damaged frame must produce: the receiver cannot
// tell a bad tag from a length that unmasks out of range, and both end the connection.
bool is_fatal_stream_error(const Error& error) {
  return error.code == Errc::auth_failed || error.code == Errc::malformed;
}

TEST(FrameCodec, RoundTripsRandomFramesInBothDirectionsWithEveryPadding) {
  std::mt19937 rng(1);
  for (const PaddingPolicy& policy : every_policy()) {
    auto client_to_server = Secret<32>::random();
    auto server_to_client = Secret<32>::random();
    FrameEncoder client_out(client_to_server, policy);
    FrameDecoder server_in(client_to_server);
    FrameEncoder server_out(server_to_client, policy);
    FrameDecoder client_in(server_to_client);
    for (int round = 0; round < 10; ++round) {
      std::vector<SentFrame> up, down;
      server_in.feed(seal_stream(client_out, rng, 20, up));
      client_in.feed(seal_stream(server_out, rng, 20, down));
      expect_same_frames(drain(server_in), up);
      expect_same_frames(drain(client_in), down);
    }
    EXPECT_EQ(server_in.frames_opened(), client_out.frames_sealed());
    EXPECT_EQ(client_in.frames_opened(), server_out.frames_sealed());
  }
}

TEST(FrameCodec, FeedingOneByteAtATimeYieldsTheSameFrames) {
  std::mt19937 rng(2);
  for (const PaddingPolicy& policy : every_policy()) {
    auto key = Secret<32>::random();
    FrameEncoder encoder(key, policy);
    FrameDecoder decoder(key);
    std::vector<SentFrame> expected;
    const Bytes wire = seal_stream(encoder, rng, 30, expected);
    std::vector<SentFrame> got;
    for (std::uint8_t byte : wire) {
      decoder.feed(ByteView(&byte, 1));
      auto more = drain(decoder);
      got.insert(got.end(), more.begin(), more.end());
    }
    expect_same_frames(got, expected);
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

TEST(FrameCodec, ZeroCopyReadsInRandomChunksYieldTheSameFrames) {
  std::mt19937 rng(3);
  auto key = Secret<32>::random();
  FrameEncoder encoder(key, PaddingPolicy::uniform(1000));
  FrameDecoder decoder(key);
  std::vector<SentFrame> expected;
  const Bytes wire = seal_stream(encoder, rng, 200, expected);
  std::vector<SentFrame> got;
  std::size_t offset = 0;
  while (offset < wire.size()) {
    // Like a socket read: ask for some bytes, receive possibly fewer.
    const std::size_t asked = std::max<std::size_t>(decoder.bytes_needed(), 1 + rng() % 5000);
    MutableByteView space = decoder.prepare(asked);
    const std::size_t got_bytes =
        std::min<std::size_t>({wire.size() - offset, space.size(), 1 + rng() % asked});
    std::copy_n(wire.begin() + static_cast<std::ptrdiff_t>(offset), got_bytes, space.begin());
    decoder.commit(got_bytes);
    offset += got_bytes;
    auto more = drain(decoder);
    got.insert(got.end(), more.begin(), more.end());
  }
  expect_same_frames(got, expected);
}

TEST(FrameCodec, TruncatedFrameWaitsAndYieldsNothing) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  FrameDecoder decoder(key);
  Bytes wire;
  ASSERT_TRUE(encoder.seal_data(as_bytes("hello"), wire).ok());
  decoder.feed(ByteView(wire).first(wire.size() - 1));
  auto next = decoder.next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.bytes_needed(), 1u);
  EXPECT_FALSE(decoder.failed());
  decoder.feed(ByteView(wire).last(1));
  next = decoder.next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(as_chars((*next)->payload), "hello");
}

TEST(FrameCodec, TamperedLengthFailsAuthenticationAndTheDecoderStaysFailed) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  FrameDecoder decoder(key);
  Bytes wire;
  ASSERT_TRUE(encoder.seal_data(Bytes(100, 7), wire).ok());
  ASSERT_TRUE(encoder.seal_data(Bytes(100, 8), wire).ok());
  wire[1] ^= 0x01;  // the declared length changes by one and stays in range
  decoder.feed(wire);
  auto next = decoder.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, Errc::auth_failed) << next.error().describe();
  EXPECT_TRUE(decoder.failed());

  // Nothing fed afterwards, however valid-looking, is ever accepted.
  FrameEncoder fresh(key);
  Bytes valid;
  ASSERT_TRUE(fresh.seal_data(as_bytes("valid"), valid).ok());
  decoder.feed(valid);
  next = decoder.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, Errc::auth_failed);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameCodec, OversizedDeclaredLengthIsRejectedBeforeTheBodyArrives) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  FrameDecoder decoder(key);
  Bytes wire;
  ASSERT_TRUE(encoder.seal_data(as_bytes("x"), wire).ok());
  wire[0] ^= 0x80;  // real length < 17 KiB, so this one is >= 32 KiB
  decoder.feed(ByteView(wire).first(2));
  auto next = decoder.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, Errc::malformed) << next.error().describe();
  EXPECT_NE(next.error().message.find("outside"), std::string::npos);
  EXPECT_TRUE(decoder.failed());
}

TEST(FrameCodec, TamperedBodyOrTagFailsAuthentication) {
  auto key = Secret<32>::random();
  Bytes wire;
  FrameEncoder encoder(key, PaddingPolicy::uniform(50));
  ASSERT_TRUE(encoder.seal_data(Bytes(64, 1), wire).ok());
  for (std::size_t position : {std::size_t{2}, std::size_t{10}, wire.size() - 1}) {
    FrameDecoder decoder(key);
    Bytes tampered = wire;
    tampered[position] ^= 0x20;
    decoder.feed(tampered);
    auto next = decoder.next();
    ASSERT_FALSE(next.ok()) << "byte " << position;
    EXPECT_EQ(next.error().code, Errc::auth_failed);
  }
}

TEST(FrameCodec, ReorderedReplayedOrDroppedFramesEndTheConnection) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  std::vector<Bytes> frames(3);
  for (auto& frame : frames) ASSERT_TRUE(encoder.seal_data(Bytes(40, 5), frame).ok());

  const std::vector<std::vector<int>> orders = {
      {1, 0, 2},  // reordered
      {0, 0, 1},  // replayed
      {0, 2},     // dropped
  };
  for (const auto& order : orders) {
    FrameDecoder decoder(key);
    Bytes wire;
    for (int index : order) append(wire, frames[index]);
    // Later traffic, so whatever length a disrupted frame unmasks to can be completed.
    append(wire, Bytes(kMaxFrameWireSize, 0));
    decoder.feed(wire);
    // Frames before the disruption are delivered; the disrupted one fails.
    bool failed = false;
    for (std::size_t i = 0; i < order.size() && !failed; ++i) {
      auto next = decoder.next();
      if (static_cast<std::size_t>(order[i]) == i) {
        ASSERT_TRUE(next.ok() && next->has_value());
        continue;
      }
      ASSERT_FALSE(next.ok()) << "disruption at position " << i << " went unnoticed";
      EXPECT_TRUE(is_fatal_stream_error(next.error())) << next.error().describe();
      failed = true;
    }
    EXPECT_TRUE(failed);
    EXPECT_TRUE(decoder.failed());
    EXPECT_FALSE(decoder.next().ok());
  }
}

TEST(FrameCodec, ReplayIntoAFreshConnectionWithAnotherKeyFails) {
  FrameEncoder encoder(Secret<32>::random());
  Bytes wire;
  ASSERT_TRUE(encoder.seal_data(as_bytes("recorded"), wire).ok());
  for (int attempt = 0; attempt < 20; ++attempt) {
    FrameDecoder decoder(Secret<32>::random());
    decoder.feed(wire);
    decoder.feed(Bytes(kMaxFrameWireSize, 0));  // enough bytes for any declared length
    auto next = decoder.next();
    ASSERT_FALSE(next.ok());
    EXPECT_TRUE(is_fatal_stream_error(next.error()));
  }
}

TEST(FrameCodec, FrameWithUnknownTypeIsRejectedAsMalformed) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  FrameDecoder decoder(key);
  Bytes wire;
  ASSERT_TRUE(encoder.seal(static_cast<FrameType>(9), as_bytes("future"), wire).ok());
  decoder.feed(wire);
  auto next = decoder.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, Errc::malformed);
}

TEST(FrameCodec, EncoderRefusesFramesAboveTheLimits) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  Bytes wire;
  auto too_big = encoder.seal_data(Bytes(kMaxFramePayload + 1), wire);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, Errc::limit_exceeded);
  auto too_padded = encoder.seal_padded(FrameType::data, Bytes(kMaxFramePayload), 2000, wire);
  ASSERT_FALSE(too_padded.ok());
  EXPECT_EQ(too_padded.error().code, Errc::limit_exceeded);
  EXPECT_TRUE(wire.empty());
  EXPECT_EQ(encoder.frames_sealed(), 0u);  // refused frames do not consume a counter

  // The largest legal frame: full payload plus all the padding that fits.
  const std::size_t padding = max_padding_for(kMaxFramePayload);
  ASSERT_TRUE(encoder.seal_padded(FrameType::data, Bytes(kMaxFramePayload, 3), padding, wire).ok());
  EXPECT_EQ(wire.size(), kMaxFrameWireSize);
  FrameDecoder decoder(key);
  decoder.feed(wire);
  auto next = decoder.next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->payload.size(), kMaxFramePayload);
}

TEST(FrameCodec, ChaffIsInvisibleToTheReceiverAndHasTheRequestedSize) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  FrameDecoder decoder(key);
  Bytes wire;
  ASSERT_TRUE(encoder.seal_chaff_of_size(1000, wire).ok());
  EXPECT_EQ(wire.size(), 1000u);
  ASSERT_TRUE(encoder.seal_chaff_of_size(kMinFrameWireSize, wire).ok());
  EXPECT_FALSE(encoder.seal_chaff_of_size(kMinFrameWireSize - 1, wire).ok());
  EXPECT_FALSE(encoder.seal_chaff_of_size(kMaxFrameWireSize + 1, wire).ok());
  ASSERT_TRUE(encoder.seal(FrameType::close, as_bytes("bye"), wire).ok());
  decoder.feed(wire);
  auto next = decoder.next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->type, FrameType::close);
  EXPECT_EQ(as_chars((*next)->payload), "bye");
}

TEST(FrameCodec, IdenticalPayloadsLookDifferentOnTheWire) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  Bytes first, second;
  ASSERT_TRUE(encoder.seal_data(as_bytes("same message"), first).ok());
  ASSERT_TRUE(encoder.seal_data(as_bytes("same message"), second).ok());
  ASSERT_EQ(first.size(), second.size());
  EXPECT_NE(first, second);
  EXPECT_NE(Bytes(first.begin(), first.begin() + 2), Bytes(second.begin(), second.begin() + 2))
      << "length prefixes of equal frames should differ (masked per frame)";

  // The same key and counter in another connection direction would repeat bytes; a
  // different key (every connection has fresh Noise keys) does not.
  FrameEncoder other(Secret<32>::random());
  Bytes third;
  ASSERT_TRUE(other.seal_data(as_bytes("same message"), third).ok());
  EXPECT_NE(first, third);
}

TEST(FrameCodec, WireBytesOfLowEntropyTrafficLookUniform) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key, PaddingPolicy::uniform(200));
  Bytes wire;
  // All-zero payloads of a few fixed sizes: the worst case for leaking structure.
  for (int i = 0; wire.size() < 1'000'000; ++i) {
    ASSERT_TRUE(encoder.seal_data(Bytes(i % 3 == 0 ? 10 : 500, 0), wire).ok());
  }
  std::array<double, 256> histogram{};
  for (std::uint8_t byte : wire) histogram[byte] += 1;
  const double expected = static_cast<double>(wire.size()) / 256;
  double chi_square = 0;
  for (double count : histogram) chi_square += (count - expected) * (count - expected) / expected;
  // 255 degrees of freedom: mean 255, standard deviation ~22.6. 400 is > 6 sigma.
  EXPECT_LT(chi_square, 400.0);

  // The 2-byte length prefixes alone must not be constant or low-entropy either.
  FrameEncoder fixed(key, PaddingPolicy::none());
  std::array<int, 256> first_byte{};
  for (int i = 0; i < 4096; ++i) {
    Bytes frame;
    ASSERT_TRUE(fixed.seal_data(Bytes(100, 0), frame).ok());
    ++first_byte[frame[0]];
  }
  int distinct = 0;
  for (int count : first_byte) distinct += count > 0 ? 1 : 0;
  EXPECT_GT(distinct, 200);
}

TEST(FrameCodec, IdleDecoderHoldsLittleMemory) {
  auto key = Secret<32>::random();
  FrameEncoder encoder(key);
  FrameDecoder decoder(key);
  Bytes wire;
  ASSERT_TRUE(encoder.seal_data(Bytes(kMaxFramePayload, 1), wire).ok());
  decoder.feed(wire);
  auto frame = decoder.next();
  ASSERT_TRUE(frame.ok() && frame->has_value());
  EXPECT_GE(decoder.buffer_capacity(), kMaxFramePayload);
  auto none = decoder.next();  // drained: the connection goes back to waiting
  ASSERT_TRUE(none.ok() && !none->has_value());
  EXPECT_EQ(decoder.buffer_capacity(), 0u);

  // A big read that ends a few bytes into the next frame keeps only those bytes.
  Bytes two;
  ASSERT_TRUE(encoder.seal_data(Bytes(kMaxFramePayload, 2), two).ok());
  ASSERT_TRUE(encoder.seal_data(as_bytes("tail"), two).ok());
  decoder.feed(ByteView(two).first(two.size() - 3));
  frame = decoder.next();
  ASSERT_TRUE(frame.ok() && frame->has_value());
  none = decoder.next();
  ASSERT_TRUE(none.ok() && !none->has_value());
  EXPECT_LE(decoder.buffer_capacity(), 4096u);
  decoder.feed(ByteView(two).last(3));
  frame = decoder.next();
  ASSERT_TRUE(frame.ok() && frame->has_value());
  EXPECT_EQ(as_chars((*frame)->payload), "tail");
}

}  // namespace
}  // namespace samizdat::wire
