// Channel 2 against a real nginx (Debian nginx-light) serving map.bin over HTTPS with a
// self-signed certificate: trust comes from the map signature, SNI and Host may differ.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "map_test_support.hpp"
#include "nginx_process.hpp"
#include "reach/channels/https_mirror_map.hpp"

namespace samizdat::reach {
namespace {

using ::testing::HasSubstr;
using namespace samizdat::reach::testing;

void write_file(const std::filesystem::path& file, ByteView bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(ChannelHttpsMirror, FrontedFetchFromNginxGivesBackAnAcceptableMap) {
  Operator op;
  auto bytes = op.sign(sample_map(40));
  Nginx nginx("hidden.example");
  ASSERT_TRUE(nginx.certificate_written());
  write_file(nginx.www() / "samizdat" / "map.bin", bytes);
  MapMirror mirror{"https://127.0.0.1:" + std::to_string(nginx.port()) + "/samizdat/map.bin", "cdn.example",
                   "hidden.example"};
  auto fetched = fetch_map_from_mirror_blocking(mirror, MirrorFetchOptions{});
  ASSERT_TRUE(fetched.ok()) << fetched.error().message << "\n" << nginx.error_log();
  EXPECT_EQ(*fetched, bytes);
  auto accepted = accept_map(nullptr, *fetched, op.root.public_key, kNow);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->map.version, 40u);
}

TEST(ChannelHttpsMirror, WithoutTheFrontedHostTheCdnAnswers404AndTheFetchSaysSo) {
  Operator op;
  Nginx nginx("hidden.example");
  write_file(nginx.www() / "map.bin", op.sign(sample_map(41)));
  MapMirror mirror{"https://127.0.0.1:" + std::to_string(nginx.port()) + "/map.bin", "cdn.example", ""};
  auto fetched = fetch_map_from_mirror_blocking(mirror, MirrorFetchOptions{});
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, Errc::protocol);
  EXPECT_THAT(fetched.error().message, HasSubstr("HTTP status 404"));
}

TEST(ChannelHttpsMirror, ATamperedFileFromTheMirrorIsRejectedBySignature) {
  Operator op;
  auto bytes = op.sign(sample_map(42));
  bytes[bytes.size() / 2] ^= 0x40;
  Nginx nginx("hidden.example");
  write_file(nginx.www() / "map.bin", bytes);
  MapMirror mirror{"https://127.0.0.1:" + std::to_string(nginx.port()) + "/map.bin", "", "hidden.example"};
  auto fetched = fetch_map_from_mirror_blocking(mirror, MirrorFetchOptions{});
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  LogCapture log;
  EXPECT_FALSE(accept_map(nullptr, *fetched, op.root.public_key, kNow).ok());
  EXPECT_THAT(log.text(), HasSubstr("rejected"));
}

TEST(ChannelHttpsMirror, AFileBiggerThanTheLimitIsRefused) {
  Nginx nginx("hidden.example");
  write_file(nginx.www() / "map.bin", Bytes(100 * 1024, 0x41));
  MapMirror mirror{"https://127.0.0.1:" + std::to_string(nginx.port()) + "/map.bin", "", "hidden.example"};
  auto fetched = fetch_map_from_mirror_blocking(mirror, MirrorFetchOptions{});
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, Errc::limit_exceeded);
}

TEST(ChannelHttpsMirror, ASilentMirrorTimesOut) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  MapMirror mirror{"https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/map.bin", "",
                   ""};
  MirrorFetchOptions options;
  options.timeout = std::chrono::milliseconds(300);
  auto fetched = fetch_map_from_mirror_blocking(mirror, options);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, Errc::timeout);
}

TEST(ChannelHttpsMirror, BadUrlsAreRefusedBeforeConnecting) {
  EXPECT_EQ(fetch_map_from_mirror_blocking(MapMirror{"http://x/map.bin", "", ""}, {}).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(fetch_map_from_mirror_blocking(MapMirror{"https://x:99999/", "", ""}, {}).error().code,
            Errc::invalid_argument);
}

}  // namespace
}  // namespace samizdat::reach
