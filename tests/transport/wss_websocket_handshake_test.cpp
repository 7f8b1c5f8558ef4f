#include <gtest/gtest.h>

#include "transport/wss/websocket_handshake.hpp"

namespace samizdat::transport::ws {
namespace {

HttpHead request_head(std::string_view text) {
  auto end = find_head_end(as_bytes(text));
  EXPECT_TRUE(end.ok() && end->has_value());
  auto head = parse_request_head(as_bytes(text).first(**end));
  EXPECT_TRUE(head.ok()) << head.error().describe();
  return *head;
}

std::string valid_request(std::string_view path) {
  UpgradeRequest request{std::string(path), "hidden.example", "https://hidden.example",
                         "dGhlIHNhbXBsZSBub25jZQ=="};
  return format_upgrade_request(request);
}

TEST(WebSocketHandshake, ComputesTheAcceptKeyOfRfc6455Section13) {
  EXPECT_EQ(accept_key_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, ClientKeysAreFreshBase64Of16Bytes) {
  auto a = make_client_key();
  auto b = make_client_key();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.substr(22), "==");
  EXPECT_NE(a, b);
}

TEST(WebSocketHandshake, UpgradesOnlyAWellFormedRequestForTheSecretPath) {
  auto head = request_head(valid_request("/s3cret"));
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/s3cret");
  EXPECT_EQ(head.header("host"), "hidden.example");
  auto answer = upgrade_response_for(head, "/s3cret");
  ASSERT_TRUE(answer.has_value());
  EXPECT_NE(answer->find("HTTP/1.1 101 Switching Protocols\r\n"), std::string::npos);
  EXPECT_NE(answer->find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);

  EXPECT_FALSE(upgrade_response_for(head, "/other")) << "wrong path";
  EXPECT_FALSE(upgrade_response_for(head, "/s3cre")) << "prefix of the path";
  EXPECT_FALSE(upgrade_response_for(request_head(valid_request("/s3cret/x")), "/s3cret"));
  EXPECT_TRUE(upgrade_response_for(request_head(valid_request("/s3cret?x=1")), "/s3cret"))
      << "a query string is not part of the path";

  auto replace = [](std::string text, std::string_view from, std::string_view to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  auto base = valid_request("/s3cret");
  EXPECT_FALSE(upgrade_response_for(request_head(replace(base, "GET", "POST")), "/s3cret"));
  EXPECT_FALSE(upgrade_response_for(request_head(replace(base, "HTTP/1.1", "HTTP/1.0")), "/s3cret"));
  EXPECT_FALSE(
      upgrade_response_for(request_head(replace(base, "Upgrade: websocket", "Upgrade: h2c")), "/s3cret"));
  EXPECT_FALSE(upgrade_response_for(request_head(replace(base, "Connection: Upgrade", "Connection: close")),
                                    "/s3cret"));
  EXPECT_FALSE(upgrade_response_for(
      request_head(replace(base, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")), "/s3cret"));
  EXPECT_FALSE(upgrade_response_for(
      request_head(replace(base, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ==")), "/s3cret"));
  EXPECT_TRUE(upgrade_response_for(
      request_head(replace(base, "Connection: Upgrade", "Connection: keep-alive, Upgrade")), "/s3cret"));
}

TEST(WebSocketHandshake, TheClientRequestLooksLikeChromium) {
  auto text = valid_request("/p");
  EXPECT_EQ(text.rfind("GET /p HTTP/1.1\r\nHost: hidden.example\r\nConnection: Upgrade\r\n", 0), 0u);
  EXPECT_NE(text.find("User-Agent: Mozilla/5.0"), std::string::npos);
  EXPECT_NE(text.find("Origin: https://hidden.example\r\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
}

TEST(WebSocketHandshake, ClientChecksTheServersAnswer) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  auto response = [](std::string_view text) {
    auto head = parse_response_head(as_bytes(text));
    EXPECT_TRUE(head.ok()) << head.error().describe();
    return *head;
  };
  auto good = response(
      "HTTP/1.1 101 Switching Protocols\r\nServer: nginx\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_TRUE(check_upgrade_response(good, key).ok());
  EXPECT_FALSE(check_upgrade_response(good, "AAAAAAAAAAAAAAAAAAAAAA==").ok()) << "accept of another key";

  auto not_found = response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  auto error = check_upgrade_response(not_found, key);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.error().message.find("404"), std::string::npos);

  auto deflate = response(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: "
      "permessage-deflate\r\n\r\n");
  EXPECT_FALSE(check_upgrade_response(deflate, key).ok());
}

TEST(WebSocketHandshake, HeadsAreBoundedAndMustBeHttp) {
  std::string partial = "GET / HTTP/1.1\r\nHost: a\r\n";
  auto end = find_head_end(as_bytes(partial));
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHttpHead, 'a');
  auto too_long = find_head_end(as_bytes(huge));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, Errc::limit_exceeded);
  EXPECT_FALSE(parse_request_head(as_bytes("\x16\x03\x01\x02\x00\r\n\r\n")).ok());
  EXPECT_FALSE(parse_response_head(as_bytes("SSH-2.0-OpenSSH\r\n\r\n")).ok());
}

}  // namespace
}  // namespace samizdat::transport::ws
