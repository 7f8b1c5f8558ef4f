// The goodput probe's padded Ping: its padding travels as Ping.padding, so the request
// grows by the padding (plus a few bytes of lengths) and still reads as the same ping.
#include <gtest/gtest.h>

#include "samizdat/session.pb.h"
#include "wire/message_codec.hpp"

namespace samizdat::wire {
namespace {

TEST(PingPadding, APaddedPingGrowsByItsPaddingAndKeepsItsNonce) {
  ClientMessage plain;
  plain.set_request_id(7);
  plain.mutable_ping()->set_nonce(123456789);
  ClientMessage padded = plain;
  const std::string filler(32 * 1024, '\x5a');
  padded.mutable_ping()->set_padding(filler);

  Bytes plain_bytes = serialize_message(plain);
  Bytes padded_bytes = serialize_message(padded);
  EXPECT_GE(padded_bytes.size(), plain_bytes.size() + filler.size());
  EXPECT_LE(padded_bytes.size(), plain_bytes.size() + filler.size() + 6);  // tag and lengths

  auto parsed = parse_message<ClientMessage>(padded_bytes, padded_bytes.size(), "client message");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_TRUE(parsed->has_ping());
  EXPECT_EQ(parsed->ping().nonce(), 123456789u);
  EXPECT_EQ(parsed->ping().padding(), filler);
}

}  // namespace
}  // namespace samizdat::wire
