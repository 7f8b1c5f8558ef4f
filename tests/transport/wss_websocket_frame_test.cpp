#include <gtest/gtest.h>

#include "transport/wss/websocket_frame.hpp"
#include "util/encoding.hpp"

namespace samizdat::transport::ws {
namespace {

Bytes hex(std::string_view text) { return hex_decode(text).value(); }

std::string text_of(ByteView bytes) { return std::string(as_chars(bytes)); }

// Feeds `wire` and expects exactly one message.
Message decode_one(MessageDecoder& decoder, ByteView wire) {
  decoder.feed(wire);
  auto message = decoder.next();
  EXPECT_TRUE(message.ok()) << message.error().describe();
  EXPECT_TRUE(message->has_value());
  return **message;
}

TEST(WebSocketFrame, ReadsTheUnmaskedHelloOfRfc6455Section57) {
  MessageDecoder client(/*expect_masked=*/false, 1 << 20);
  auto message = decode_one(client, hex("810548656c6c6f"));
  EXPECT_EQ(message.opcode, Opcode::text);
  EXPECT_EQ(text_of(message.payload), "Hello");
}

TEST(WebSocketFrame, ReadsTheMaskedHelloOfRfc6455Section57) {
  MessageDecoder server(/*expect_masked=*/true, 1 << 20);
  auto message = decode_one(server, hex("818537fa213d7f9f4d5158"));
  EXPECT_EQ(message.opcode, Opcode::text);
  EXPECT_EQ(text_of(message.payload), "Hello");
}

TEST(WebSocketFrame, WritesTheMaskedHelloOfRfc6455Section57) {
  Bytes out;
  const std::uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  append_frame(out, Opcode::text, true, as_bytes("Hello"), key);
  EXPECT_EQ(hex_encode(out), "818537fa213d7f9f4d5158");
  Bytes unmasked;
  append_frame(unmasked, Opcode::text, true, as_bytes("Hello"), false);
  EXPECT_EQ(hex_encode(unmasked), "810548656c6c6f");
}

TEST(WebSocketFrame, JoinsTheFragmentedHelloOfRfc6455Section57) {
  MessageDecoder client(false, 1 << 20);
  client.feed(hex("010348656c"));
  auto first = client.next();
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value()) << "a first fragment is not a message";
  auto message = decode_one(client, hex("80026c6f"));
  EXPECT_EQ(message.opcode, Opcode::text);
  EXPECT_EQ(text_of(message.payload), "Hello");
}

TEST(WebSocketFrame, DeliversAPingArrivingBetweenFragmentsBeforeTheMessage) {
  MessageDecoder client(false, 1 << 20);
  Bytes wire = hex("010348656c");       // "Hel", not final
  append(wire, hex("890548656c6c6f"));  // ping "Hello" (RFC example)
  append(wire, hex("80026c6f"));        // "lo", final
  client.feed(wire);
  auto ping = client.next();
  ASSERT_TRUE(ping.ok() && ping->has_value());
  EXPECT_EQ((*ping)->opcode, Opcode::ping);
  EXPECT_EQ(text_of((*ping)->payload), "Hello");
  auto message = client.next();
  ASSERT_TRUE(message.ok() && message->has_value());
  EXPECT_EQ((*message)->opcode, Opcode::text);
  EXPECT_EQ(text_of((*message)->payload), "Hello");
  auto none = client.next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(WebSocketFrame, ReadsTheMaskedPongOfRfc6455Section57) {
  MessageDecoder server(true, 1 << 20);
  auto message = decode_one(server, hex("8a8537fa213d7f9f4d5158"));
  EXPECT_EQ(message.opcode, Opcode::pong);
  EXPECT_EQ(text_of(message.payload), "Hello");
}

TEST(WebSocketFrame, Uses16And64BitLengthsLikeRfc6455Section57) {
  Bytes payload256(256, 0xab);
  Bytes out;
  append_frame(out, Opcode::binary, true, payload256, false);
  EXPECT_EQ(hex_encode(ByteView(out).first(4)), "827e0100");
  Bytes payload64k(65536, 0xcd);
  Bytes big;
  append_frame(big, Opcode::binary, true, payload64k, false);
  EXPECT_EQ(hex_encode(ByteView(big).first(10)), "827f0000000000010000");

  MessageDecoder client(false, 1 << 20);
  EXPECT_EQ(decode_one(client, out).payload.size(), 256u);
  EXPECT_EQ(to_bytes(decode_one(client, big).payload), payload64k);
}

TEST(WebSocketFrame, ReassemblesMessagesFedOneByteAtATime) {
  Bytes wire;
  Bytes payload(70000);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  append_frame(wire, Opcode::binary, false, ByteView(payload).first(1000), true);
  append_frame(wire, Opcode::ping, true, as_bytes("p"), true);
  append_frame(wire, Opcode::continuation, true, ByteView(payload).subspan(1000), true);
  MessageDecoder server(true, 1 << 20);
  std::vector<Opcode> opcodes;
  Bytes received;
  for (std::uint8_t byte : wire) {
    server.feed(ByteView(&byte, 1));
    for (;;) {
      auto next = server.next();
      ASSERT_TRUE(next.ok()) << next.error().describe();
      if (!next->has_value()) {
        EXPECT_GE(server.bytes_needed(), 1u);
        break;
      }
      opcodes.push_back((*next)->opcode);
      if ((*next)->opcode == Opcode::binary) received = to_bytes((*next)->payload);
    }
  }
  EXPECT_EQ(opcodes, (std::vector<Opcode>{Opcode::ping, Opcode::binary}));
  EXPECT_EQ(received, payload);
}

TEST(WebSocketFrame, RefusesAnOversizedFrameFromItsHeaderWithCloseCode1009) {
  MessageDecoder server(true, 1024);
  // Header only: a 1 GiB masked binary frame. It is refused before any payload arrives.
  server.feed(hex("82ff000000004000000001020304"));
  auto result = server.next();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::limit_exceeded);
  EXPECT_NE(result.error().message.find("1024"), std::string::npos) << result.error().message;
  EXPECT_EQ(server.close_code(), kCloseTooBig);
  // It stays failed.
  server.feed(hex("818537fa213d7f9f4d5158"));
  EXPECT_FALSE(server.next().ok());
}

TEST(WebSocketFrame, RefusesAMessageWhoseFragmentsTogetherExceedTheLimit) {
  MessageDecoder server(true, 1000);
  Bytes wire;
  Bytes part(600, 1);
  append_frame(wire, Opcode::binary, false, part, true);
  append_frame(wire, Opcode::continuation, true, part, true);
  server.feed(wire);
  auto result = server.next();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(server.close_code(), kCloseTooBig);
}

TEST(WebSocketFrame, RefusesProtocolViolationsWithCloseCode1002) {
  struct Case {
    const char* what;
    bool server;
    std::string wire;
  };
  const Case cases[] = {
      {"unmasked frame to a server", true, "810548656c6c6f"},
      {"masked frame to a client", false, "818537fa213d7f9f4d5158"},
      {"reserved bit", false, "c10548656c6c6f"},
      {"reserved opcode", false, "830548656c6c6f"},
      {"fragmented ping", false, "090548656c6c6f"},
      {"ping longer than 125", false, "897e0100"},
      {"continuation outside a message", false, "80026c6f"},
      {"new message inside a fragmented one", false, "010348656c810548656c6c6f"},
      {"64-bit length with top bit", false, "827f8000000000000000"},
  };
  for (const auto& c : cases) {
    MessageDecoder decoder(c.server, 1 << 20);
    decoder.feed(hex(c.wire));
    auto result = decoder.next();
    ASSERT_FALSE(result.ok()) << c.what;
    EXPECT_EQ(result.error().code, Errc::protocol) << c.what;
    EXPECT_EQ(decoder.close_code(), kCloseProtocolError) << c.what;
  }
}

TEST(WebSocketFrame, CloseFramesCarryACodeAndReason) {
  auto payload = close_payload(kCloseNormal, "bye");
  EXPECT_EQ(hex_encode(payload), "03e8627965");
  auto parsed = parse_close_payload(payload);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->code, kCloseNormal);
  EXPECT_EQ(parsed->reason, "bye");
  EXPECT_EQ(parse_close_payload({})->code, kCloseNoStatus);
  EXPECT_FALSE(parse_close_payload(hex("03")).ok());
  EXPECT_FALSE(parse_close_payload(hex("03ed")).ok()) << "1005 may not be sent";
  EXPECT_EQ(close_payload(kCloseNormal, std::string(300, 'x')).size(), kMaxControlPayload);
}

TEST(WebSocketFrame, IdleDecoderReleasesTheBufferOfABigMessage) {
  MessageDecoder client(false, 1 << 20);
  Bytes wire;
  append_frame(wire, Opcode::binary, true, Bytes(200000, 9), false);
  EXPECT_EQ(decode_one(client, wire).payload.size(), 200000u);
  auto none = client.next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_LE(client.buffer_capacity(), 8192u);
}

}  // namespace
}  // namespace samizdat::transport::ws
