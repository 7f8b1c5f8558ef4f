// Fixed inputs with published outputs: RFC 7693 Appendix A and the BLAKE2 reference
// known-answer file (keyed), SipHash-2-4's reference vector, ChaCha20's all-zero block.
#include "crypto/keyed_hash.hpp"

#include <gtest/gtest.h>

#include "crypto/chacha20.hpp"
#include "util/encoding.hpp"

namespace samizdat::crypto {
namespace {

Bytes sequence(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i);
  return out;
}

TEST(KeyedHash, UnkeyedBlake2b512OfAbcIsTheRfc7693Vector) {
  auto digest = blake2b<64>({}, {as_bytes("abc")});
  EXPECT_EQ(hex_encode(digest),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST(KeyedHash, KeyedBlake2bMatchesTheReferenceKnownAnswers) {
  auto key = sequence(64);
  EXPECT_EQ(hex_encode(blake2b<64>(key, {})),
            "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
            "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");
  EXPECT_EQ(hex_encode(blake2b<64>(key, {sequence(3)})),
            "33d0825dddf7ada99b0e7e307104ad07ca9cfd9692214f1561356315e784f3e5"
            "a17e364ae9dbb14cb2036df932b77f4b292761365fb328de7afdc6d8998f5fc1");
}

TEST(KeyedHash, PartsHashLikeTheirConcatenationAndTheOutputLengthIsPartOfTheHash) {
  auto joined = blake2b<32>({}, {as_bytes("abc")});
  auto split = blake2b<32>({}, {as_bytes("a"), as_bytes(""), as_bytes("bc")});
  EXPECT_EQ(joined, split);
  EXPECT_EQ(hex_encode(joined), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  Bytes key(32, 'k');
  EXPECT_EQ(hex_encode(blake2b<16>(key, {as_bytes("samizdat")})), "b14e43c201729464434ee267a38dc9b9");
}

TEST(KeyedHash, SipHash24MatchesTheReferenceVector) {
  SipHashKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(hex_encode(siphash24(key, {})), "310e0edd47db6f72");
  EXPECT_EQ(hex_encode(siphash24(key, sequence(15))), "e545be4961ca29a1");
}

TEST(ChaCha20, AllZeroKeyAndNonceGiveTheKnownFirstBlock) {
  Bytes block(64);
  chacha20_keystream(block, {}, {});
  EXPECT_EQ(hex_encode(block),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
}

TEST(ChaCha20, SealedRecordsOpenOnlyUnchanged) {
  ChaChaKey key{};
  key[0] = 7;
  std::array<std::uint8_t, 12> nonce{};
  nonce[11] = 1;
  auto plain = as_bytes("a record");
  Bytes sealed(plain.size() + kChaChaPolyTag);
  chacha20poly1305_seal(sealed, plain, nonce, key);
  Bytes opened(plain.size());
  ASSERT_TRUE(chacha20poly1305_open(opened, sealed, nonce, key));
  EXPECT_EQ(opened, to_bytes(plain));
  sealed[0] ^= 1;
  EXPECT_FALSE(chacha20poly1305_open(opened, sealed, nonce, key));
}

}  // namespace
}  // namespace samizdat::crypto
