#include <gtest/gtest.h>

#include "crypto/e2e/address.hpp"
#include "crypto/e2e/mailbox_id.hpp"

namespace samizdat::crypto::e2e {
namespace {

TEST(Address, RoundTripsThroughTextAndGroupedText) {
  auto identity = Ed25519KeyPair::generate();
  Address address = Address::from_identity(identity.public_key);
  std::string text = address.to_string();
  EXPECT_EQ(text.rfind("sz1", 0), 0u);
  EXPECT_EQ(text.size(), 3u + 64u);
  EXPECT_EQ(Address::parse(text).value(), address);
  std::string grouped = address.to_grouped_string();
  EXPECT_NE(grouped.find('-'), std::string::npos);
  EXPECT_EQ(Address::parse(grouped).value(), address);
  std::string shouted;
  for (char c : grouped) shouted += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Address::parse(" " + shouted + "\n").value().identity_key, identity.public_key);
}

TEST(Address, EveryOneCharacterTypoIsCaughtByTheChecksum) {
  auto identity = Ed25519KeyPair::generate();
  std::string text = Address::from_identity(identity.public_key).to_string();
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  for (std::size_t pos = 3; pos < text.size(); ++pos) {
    std::string typo = text;
    typo[pos] = alphabet[(alphabet.find(text[pos]) + 1 + pos % 31) % 32];
    auto parsed = Address::parse(typo);
    ASSERT_FALSE(parsed.ok()) << "typo at " << pos << " accepted";
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
    EXPECT_NE(parsed.error().message.find("checksum does not match"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(Address, WrongPrefixLengthOrCharactersGetTheirOwnMessages) {
  std::string text = Address::from_identity(Ed25519KeyPair::generate().public_key).to_string();
  auto no_prefix = Address::parse("xx1" + text.substr(3));
  EXPECT_NE(no_prefix.error().message.find("must start with"), std::string::npos);
  auto short_one = Address::parse(text.substr(0, text.size() - 1));
  EXPECT_NE(short_one.error().message.find("characters"), std::string::npos);
  EXPECT_EQ(short_one.error().code, Errc::invalid_argument);
  std::string bad_char = text;
  bad_char[10] = '1';
  auto bad = Address::parse(bad_char);
  EXPECT_NE(bad.error().message.find("not allowed"), std::string::npos);
  EXPECT_EQ(Address::parse("").error().code, Errc::invalid_argument);
}

TEST(Address, MailboxIdsDifferPerDeviceAndPerIdentityAndAreStable) {
  auto a = Ed25519KeyPair::generate();
  auto b = Ed25519KeyPair::generate();
  EXPECT_EQ(mailbox_id(a.public_key, 1), mailbox_id(a.public_key, 1));
  EXPECT_NE(mailbox_id(a.public_key, 1), mailbox_id(a.public_key, 2));
  EXPECT_NE(mailbox_id(a.public_key, 1), mailbox_id(b.public_key, 1));
}

}  // namespace
}  // namespace samizdat::crypto::e2e
