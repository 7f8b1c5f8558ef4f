// Network map channel 4, contacts: the digest rides inside every message, a device asks a
// contact for a newer map once (no request storms), and the contact's reply is checked like
// every other channel's — a forged, older or other network's map is refused with a reason.
#include "client/contact_map.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "../reach/map_test_support.hpp"
#include "client/message_content.hpp"
#include "util/clock.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

namespace fs = std::filesystem;
using reach::testing::LogCapture;

std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

// An operator whose keys are valid now (MapKeeper checks against the real clock).
struct LiveOperator {
  reach::testing::Operator keys{now_seconds() - 3600, now_seconds() + 30 * 86400};
  Bytes sign(std::uint64_t version, std::size_t endpoints = 2) const {
    auto map = reach::testing::sample_map(version, endpoints);
    map.issued_at = now_seconds() - 60;
    map.expires_at = now_seconds() + 7 * 86400;
    return keys.sign(map);
  }
  const crypto::Ed25519Public& root() const { return keys.root.public_key; }
};

wire::ContactMapReply reply_of(ByteView bytes) {
  wire::ContactMapReply reply;
  reply.set_signed_map(std::string(as_chars(bytes)));
  return reply;
}

class ContactMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("sz-contact-map-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    auto store = AccountStore::create({home_, std::nullopt, Durability::full});
    ASSERT_TRUE(store.ok()) << store.error().describe();
    store_ = std::move(*store);
    ASSERT_TRUE(keeper_.load(*store_, op_.root()).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(home_);
  }

  // This device already holds map `version` (accepted through some channel).
  void hold(std::uint64_t version) {
    auto held = keeper_.offer(*store_, op_.sign(version), "test");
    ASSERT_TRUE(held.ok()) << held.error().describe();
  }

  fs::path home_;
  LiveOperator op_;
  std::unique_ptr<AccountStore> store_;
  MapKeeper keeper_;
  Ed25519Public bob_ = crypto::Ed25519KeyPair::generate().public_key;
  Ed25519Public carol_ = crypto::Ed25519KeyPair::generate().public_key;
};

TEST_F(ContactMapTest, EveryMessageCarriesTheNewestMapDigestInsideItsContent) {
  hold(7);
  auto digest = contact_map_digest(keeper_.current(), op_.root());
  ASSERT_TRUE(digest.has_value());
  auto text = text_content("hello", 1);
  ASSERT_TRUE(text.ok());
  auto sealed_plaintext = attach_map_digest(wire::serialize_message(*text), digest);
  ASSERT_TRUE(sealed_plaintext.ok()) << sealed_plaintext.error().describe();

  auto parsed = parse_content(*sealed_plaintext);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->text(), "hello");
  ASSERT_TRUE(parsed->has_map_digest());
  EXPECT_EQ(parsed->map_digest().version(), 7u);
  EXPECT_EQ(parsed->map_digest().hash(), std::string(as_chars(keeper_.current()->digest).substr(0, 8)));
  EXPECT_EQ(parsed->map_digest().root(), std::string(as_chars(op_.root()).substr(0, 4)));
  // A few bytes: version, 8-byte hash, 4-byte root tag.
  EXPECT_LE(sealed_plaintext->size(), wire::serialize_message(*text).size() + 24);
}

TEST_F(ContactMapTest, DeviceWithoutAMapAdvertisesNothing) {
  EXPECT_FALSE(contact_map_digest(keeper_.current(), op_.root()).has_value());
  auto receipt = receipt_content(wire::RECEIPT_KIND_DELIVERED, {new_message_id()}, 1);
  auto plaintext = attach_map_digest(wire::serialize_message(receipt), std::nullopt);
  ASSERT_TRUE(plaintext.ok());
  auto parsed = parse_content(*plaintext);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->has_map_digest());
}

TEST_F(ContactMapTest, MalformedDigestIsIgnoredAndTheTextStillArrives) {
  auto text = text_content("still here", 1);
  ASSERT_TRUE(text.ok());
  text->mutable_map_digest()->set_version(9);
  text->mutable_map_digest()->set_hash("short");
  auto parsed = parse_content(wire::serialize_message(*text));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->text(), "still here");
  EXPECT_FALSE(parsed->has_map_digest());
}

TEST_F(ContactMapTest, OnlyANewerMapOfOurOwnNetworkIsWorthAskingFor) {
  wire::ContactMapDigest digest;
  digest.set_version(5);
  digest.set_hash(std::string(8, 'h'));
  digest.set_root(std::string(as_chars(op_.root()).substr(0, 4)));
  EXPECT_TRUE(contact_map_is_newer(digest, nullptr, op_.root()));  // we have none yet
  hold(5);
  EXPECT_FALSE(contact_map_is_newer(digest, keeper_.current(), op_.root()));  // same version
  digest.set_version(4);
  EXPECT_FALSE(contact_map_is_newer(digest, keeper_.current(), op_.root()));  // older
  digest.set_version(6);
  EXPECT_TRUE(contact_map_is_newer(digest, keeper_.current(), op_.root()));
  LiveOperator other;
  digest.set_root(std::string(as_chars(other.root()).substr(0, 4)));
  EXPECT_FALSE(contact_map_is_newer(digest, keeper_.current(), op_.root()));  // another network
}

TEST_F(ContactMapTest, AsksEachContactOnceAndDoesNotStormTheOthers) {
  wire::ContactMapDigest digest;
  digest.set_version(3);
  digest.set_hash(std::string(8, 'a'));
  std::int64_t t = 1'000'000;
  ContactMapLedger ledger;
  ASSERT_TRUE(ledger.should_ask(bob_, digest, t));
  ledger.record_asked(bob_, digest, t);
  EXPECT_FALSE(ledger.should_ask(bob_, digest, t + 1));
  EXPECT_FALSE(ledger.should_ask(bob_, digest, t + 365LL * 86400 * 1000));  // never twice
  EXPECT_FALSE(ledger.should_ask(carol_, digest, t + 1000));                // Bob may still answer
  EXPECT_TRUE(ledger.should_ask(carol_, digest, t + kAskAnotherContactAfterMs));
  wire::ContactMapDigest next = digest;
  next.set_version(4);
  EXPECT_TRUE(ledger.should_ask(bob_, next, t + 1));  // a newer map is a new question

  // One-shot commands see the same ledger: it lives in the account database.
  ASSERT_TRUE(save_contact_map_ledger(*store_, ledger).ok());
  auto loaded = load_contact_map_ledger(*store_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->should_ask(bob_, digest, t + 1));
  EXPECT_EQ(loaded->entries().size(), 1u);
}

TEST_F(ContactMapTest, LedgerStaysBoundedAndADamagedOneIsReplaced) {
  ContactMapLedger ledger;
  wire::ContactMapDigest digest;
  digest.set_hash(std::string(8, 'b'));
  for (std::uint64_t v = 1; v <= kMaxContactMapLedger + 10; ++v) {
    digest.set_version(v);
    ledger.record_asked(bob_, digest, 1);
  }
  EXPECT_EQ(ledger.entries().size(), kMaxContactMapLedger);
  auto round = ContactMapLedger::decode(ledger.encode());
  ASSERT_TRUE(round.ok()) << round.error().describe();
  EXPECT_EQ(round->entries().size(), kMaxContactMapLedger);
  Bytes truncated = ledger.encode();
  truncated.pop_back();
  EXPECT_EQ(ContactMapLedger::decode(truncated).error().code, Errc::malformed);

  ASSERT_TRUE(store_->put(settings::contact_map_ledger, as_bytes(std::string_view("junk"))).ok());
  LogCapture logs;
  auto loaded = load_contact_map_ledger(*store_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->entries().empty());
  EXPECT_NE(logs.text().find("ignoring the stored contact map ledger"), std::string::npos);
}

TEST_F(ContactMapTest, AnswersARequestOncePerContactWithThatMapOrANewerOne) {
  hold(4);
  const auto& held = *keeper_.current();
  wire::ContactMapRequest request;
  request.set_version(4);
  request.set_hash(std::string(as_chars(held.digest).substr(0, 8)));
  EXPECT_TRUE(can_answer_map_request(request, &held));
  request.set_version(3);  // asked for an older one: ours is better
  EXPECT_TRUE(can_answer_map_request(request, &held));
  request.set_version(5);
  EXPECT_FALSE(can_answer_map_request(request, &held));
  request.set_version(4);
  request.set_hash(std::string(8, 'x'));  // same version, another map: not ours to vouch for
  EXPECT_FALSE(can_answer_map_request(request, &held));
  EXPECT_FALSE(can_answer_map_request(request, nullptr));

  ContactMapLedger ledger;
  EXPECT_TRUE(ledger.should_answer(bob_, held));
  ledger.record_answered(bob_, held, 1);
  EXPECT_FALSE(ledger.should_answer(bob_, held));
  EXPECT_TRUE(ledger.should_answer(carol_, held));

  auto reply = map_reply_content(held, 1);
  ASSERT_TRUE(reply.ok());
  auto parsed = parse_content(wire::serialize_message(*reply));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_TRUE(parsed->has_map_reply());
  EXPECT_EQ(parsed->map_reply().signed_map(), std::string(as_chars(held.bytes)));
  wire::ContactMapDigest digest;
  digest.set_version(4);
  digest.set_hash(std::string(8, 'x'));
  auto asked = parse_content(wire::serialize_message(map_request_content(digest, 1)));
  ASSERT_TRUE(asked.ok()) << asked.error().describe();
  EXPECT_EQ(asked->map_request().version(), 4u);
}

TEST_F(ContactMapTest, ContactsReplyIsAcceptedThroughTheSameChecksAsEveryChannel) {
  hold(1);
  LogCapture logs;
  auto accepted = accept_contact_map(keeper_, *store_, reply_of(op_.sign(2)), "bob");
  ASSERT_TRUE(accepted.ok()) << accepted.error().describe();
  EXPECT_EQ(keeper_.current()->map.version, 2u);
  EXPECT_NE(logs.text().find("network map v2 accepted from contact bob"), std::string::npos) << logs.text();
  // Kept: a fresh load sees v2.
  MapKeeper reloaded;
  ASSERT_TRUE(reloaded.load(*store_, op_.root()).ok());
  ASSERT_NE(reloaded.current(), nullptr);
  EXPECT_EQ(reloaded.current()->map.version, 2u);
}

TEST_F(ContactMapTest, ForgedReplyIsRefused) {
  hold(1);
  // Bob flips a byte in a real v3 (to redirect us to his own endpoint, say).
  Bytes forged = op_.sign(3);
  forged[forged.size() / 2] ^= 0x01;
  auto flipped = accept_contact_map(keeper_, *store_, reply_of(forged), "bob");
  ASSERT_FALSE(flipped.ok());
  // Bob signs his own map with a key he certified himself.
  reach::testing::Operator bob_keys{now_seconds() - 3600, now_seconds() + 86400};
  auto map = reach::testing::sample_map(9);
  map.issued_at = now_seconds() - 60;
  map.expires_at = now_seconds() + 86400;
  auto self_signed = accept_contact_map(keeper_, *store_, reply_of(bob_keys.sign(map)), "bob");
  ASSERT_FALSE(self_signed.ok());
  EXPECT_EQ(self_signed.error().code, Errc::auth_failed) << self_signed.error().describe();
  EXPECT_EQ(keeper_.current()->map.version, 1u);
}

TEST_F(ContactMapTest, OlderOrEqualReplyIsRefusedAndTheNewerMapKept) {
  hold(5);
  LogCapture logs;
  auto older = accept_contact_map(keeper_, *store_, reply_of(op_.sign(4)), "bob");
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, Errc::replay);
  EXPECT_NE(logs.text().find("older than v5"), std::string::npos) << logs.text();
  EXPECT_EQ(keeper_.current()->map.version, 5u);
}

TEST_F(ContactMapTest, ReplyFromAnotherNetworkIsRefused) {
  hold(1);
  LiveOperator other;
  auto foreign = accept_contact_map(keeper_, *store_, reply_of(other.sign(50)), "carol");
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Errc::auth_failed);
  EXPECT_EQ(keeper_.current()->map.version, 1u);
}

TEST_F(ContactMapTest, OversizedOrGarbageReplyIsRefusedWithAClearReason) {
  hold(1);
  auto big = accept_contact_map(keeper_, *store_, reply_of(Bytes(kMaxContactMapBytes + 1, 0x5a)), "bob");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, Errc::malformed);
  EXPECT_NE(big.error().message.find("over the 49152-byte limit"), std::string::npos) << big.error().message;
  auto empty = accept_contact_map(keeper_, *store_, reply_of(Bytes{}), "bob");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("is empty"), std::string::npos);
  auto junk =
      accept_contact_map(keeper_, *store_, reply_of(as_bytes(std::string_view("not a map at all"))), "bob");
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code, Errc::malformed);
  EXPECT_EQ(keeper_.current()->map.version, 1u);
  // A map we could not hand over within one message is not sent at all.
  reach::SignedMap huge = *keeper_.current();
  huge.bytes.resize(kMaxContactMapBytes + 1);
  EXPECT_EQ(map_reply_content(huge, 1).error().code, Errc::limit_exceeded);
}

}  // namespace
}  // namespace samizdat::client
