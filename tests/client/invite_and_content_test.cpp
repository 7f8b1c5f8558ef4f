// Invites and message content: what users paste and what arrives decrypted is checked
// strictly, with errors that say what to do.
#include <gtest/gtest.h>

#include "client/invite.hpp"
#include "client/message_content.hpp"
#include "crypto/keys.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

TEST(InviteTest, RoundTripsIdentityAndDevice) {
  auto identity = crypto::Ed25519KeyPair::generate();
  Invite invite{identity.public_key, 3};
  auto parsed = Invite::parse("  " + invite.to_string() + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->identity_key, identity.public_key);
  EXPECT_EQ(parsed->device_id, 3u);
}

TEST(InviteTest, TypoIsCaughtByTheChecksum) {
  auto identity = crypto::Ed25519KeyPair::generate();
  std::string text = Invite{identity.public_key, 1}.to_string();
  text[10] = text[10] == 'A' ? 'B' : 'A';
  auto parsed = Invite::parse(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
}

TEST(InviteTest, TruncatedOrForeignTextIsRejectedWithAHint) {
  auto identity = crypto::Ed25519KeyPair::generate();
  std::string text = Invite{identity.public_key, 1}.to_string();
  EXPECT_NE(Invite::parse(text.substr(0, text.size() - 3)).error().message.find("copied completely"),
            std::string::npos);
  EXPECT_NE(Invite::parse("https://example.com").error().message.find("samizdat invite"), std::string::npos);
  EXPECT_FALSE(Invite::parse("").ok());
}

TEST(InviteTest, PlainAddressMeansDeviceOne) {
  auto identity = crypto::Ed25519KeyPair::generate();
  auto address = crypto::e2e::Address::from_identity(identity.public_key);
  auto parsed = Invite::parse(address.to_grouped_string());
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->identity_key, identity.public_key);
  EXPECT_EQ(parsed->device_id, 1u);
}

TEST(MessageContentTest, TextRoundTrips) {
  auto content = text_content("привет, world", 1234);
  ASSERT_TRUE(content.ok());
  auto parsed = parse_content(wire::serialize_message(*content));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->text(), "привет, world");
  EXPECT_EQ(parsed->sent_at_ms(), 1234u);
  EXPECT_EQ(parsed->message_id().size(), kMessageIdSize);
}

TEST(MessageContentTest, EmptyOversizedOrNonUtf8TextIsRefused) {
  EXPECT_EQ(text_content("", 1).error().code, Errc::invalid_argument);
  EXPECT_EQ(text_content(std::string(kMaxTextSize + 1, 'a'), 1).error().code, Errc::limit_exceeded);
  EXPECT_EQ(text_content("\xff\xfe", 1).error().code, Errc::invalid_argument);
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
  EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));      // truncated
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x99\x82"));  // emoji
}

TEST(MessageContentTest, ReceiptRoundTripsAndJunkIsMalformed) {
  auto receipt = receipt_content(wire::RECEIPT_KIND_READ, {Bytes(16, 1), Bytes(16, 2)}, 9);
  auto parsed = parse_content(wire::serialize_message(receipt));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->receipt().message_ids_size(), 2);

  EXPECT_EQ(parse_content(to_bytes("\x0a\x03"
                                   "abc"))
                .error()
                .code,
            Errc::malformed);  // short id
  EXPECT_FALSE(parse_content(to_bytes("\xff\xff\xff\xff")).ok());
  wire::MessageContent no_body;
  no_body.set_message_id(std::string(16, 'i'));
  EXPECT_EQ(parse_content(wire::serialize_message(no_body)).error().code, Errc::malformed);
}

}  // namespace
}  // namespace samizdat::client
