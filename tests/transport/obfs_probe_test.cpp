// Active probing of an obfs listener (issue #4's list): random bytes of 1..16,384, the
// GFW's 7-50 and 221-byte probes, HTTP, a TLS ClientHello, clients with a wrong secret,
// and replays of a real recorded handshake — the first packet replayed before the
// original arrives, while the original is in progress, with a byte changed, and the
// whole handshake replayed after the original completed. Every one must get what junk
// gets: no byte back, a reset, at a time inside the endpoint's junk deadline range.
#include <gtest/gtest.h>

#include "echo_server.hpp"
#include "probe_suite.hpp"
#include "transport/obfs/obfs_handshake.hpp"
#include "util/clock.hpp"

namespace samizdat::transport {
namespace {

using namespace std::chrono_literals;
using testing::Probe;
using testing::ProbeEnd;
using testing::ProbeObservation;

constexpr auto kHandshakeTimeout = 2000ms;

// A genuine client at the byte level over a blocking socket, so a test can record its
// packets and interleave probes between them.
class RawClient {
 public:
  RawClient(const EchoServer& server, const obfs::ObfsSecrets& secrets)
      : handshake_(*obfs::ClientHandshake::start(secrets, server.endpoint().server_static,
                                                 server.endpoint().psk, nullptr, unix_millis())),
        port_(server.endpoint().port) {}
  Bytes first() const { return to_bytes(handshake_.first_packet()); }
  Bytes second() const { return to_bytes(handshake_.second_packet()); }

  void send_first() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    send_all(handshake_.first_packet());
  }
  // Sends the confirmation and reads the server's reply; true if it authenticates.
  bool finish() {
    send_all(handshake_.second_packet());
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (!handshake_.done()) {
      Bytes chunk(handshake_.wanted());
      std::size_t got = 0;
      while (got < chunk.size()) {
        auto n = ::recv(fd_, chunk.data() + got, chunk.size() - got, 0);
        if (n <= 0) return false;
        got += static_cast<std::size_t>(n);
      }
      if (!handshake_.feed(chunk).ok()) return false;
    }
    return true;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  void send_all(ByteView bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  obfs::ClientHandshake handshake_;
  std::uint16_t port_;
  int fd_ = -1;
};

void expect_junk_treatment(const std::vector<ProbeObservation>& seen, const obfs::JunkPolicy& junk) {
  auto low = std::chrono::duration<double>(junk.deadline_min).count() - 0.05;
  auto high = std::chrono::duration<double>(junk.deadline_max).count() + 0.5;
  for (const auto& s : seen) {
    EXPECT_EQ(s.received, 0u) << s.kind;
    EXPECT_EQ(s.end, ProbeEnd::rst) << s.kind << " ended with " << to_string(s.end);
    EXPECT_GE(s.seconds, low) << s.kind;
    EXPECT_LE(s.seconds, high) << s.kind;
  }
}

TEST(ObfsProbing, EveryProbeAndReplayGetsExactlyWhatJunkGets) {
  EchoServer server({.scheme = "obfs", .handshake_timeout = kHandshakeTimeout});
  auto secrets = *obfs::derive_obfs_secrets(server.endpoint());
  auto junk = secrets.junk_policy(kHandshakeTimeout);
  auto limit = junk.deadline_max + 2s;

  // Round 1: the censor holds a genuine client's first packet and replays it first.
  RawClient original(server, secrets);
  auto probes = testing::standard_probes();
  probes.push_back({"replay-first-arrives", original.first(), {}});
  probes.push_back({"replay-changed", testing::change_one_byte(original.first(), 40), {}});
  probes.push_back(
      {"replay-changed-confirmation", original.first(), testing::change_one_byte(original.second(), 7)});
  Endpoint wrong = server.endpoint();
  wrong.psk[3] ^= 0x10;
  auto wrong_secrets = *obfs::derive_obfs_secrets(wrong);
  auto impostor =
      *obfs::ClientHandshake::start(wrong_secrets, wrong.server_static, wrong.psk, nullptr, unix_millis());
  probes.push_back(
      {"wrong-psk-client", to_bytes(impostor.first_packet()), to_bytes(impostor.second_packet())});
  auto running = std::async(std::launch::async,
                            [&] { return testing::observe_probes(server.endpoint().port, probes, limit); });
  std::this_thread::sleep_for(200ms);  // the replays are at the server before the original
  original.send_first();
  EXPECT_TRUE(original.finish())
      << "the genuine client must still get in after its packet was replayed first";
  auto seen = running.get();
  expect_junk_treatment(seen, junk);

  // Round 2: a handshake in progress replayed, and a completed one replayed in full.
  RawClient in_progress(server, secrets);
  in_progress.send_first();
  std::vector<Probe> replays = {{"replay-while-in-progress", in_progress.first(), {}},
                                {"replay-completed-handshake", original.first(), original.second()}};
  auto running2 = std::async(std::launch::async,
                             [&] { return testing::observe_probes(server.endpoint().port, replays, limit); });
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(in_progress.finish());
  auto seen2 = running2.get();
  expect_junk_treatment(seen2, junk);
  EXPECT_EQ(server.stats().accepted.load(), 2u);
  for (const auto& s : seen)
    std::cout << s.kind << ": " << s.received << " bytes, " << to_string(s.end) << " after " << s.seconds
              << " s\n";
  for (const auto& s : seen2)
    std::cout << s.kind << ": " << s.received << " bytes, " << to_string(s.end) << " after " << s.seconds
              << " s\n";
}

TEST(ObfsProbing, JunkPastTheEndpointThresholdIsResetAsSoonAsItIsRead) {
  EchoServer server({.scheme = "obfs", .handshake_timeout = 10s});
  auto secrets = *obfs::derive_obfs_secrets(server.endpoint());
  auto junk = secrets.junk_policy(10s);
  std::vector<Probe> probes = {{"over-threshold", testing::random_probe(junk.threshold_bytes + 1000), {}}};
  auto seen = testing::observe_probes(server.endpoint().port, probes, 4s);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].received, 0u);
  EXPECT_EQ(seen[0].end, ProbeEnd::rst);
  EXPECT_LT(seen[0].seconds, 2.0);  // long before the >= 5 s deadline
}

}  // namespace
}  // namespace samizdat::transport
