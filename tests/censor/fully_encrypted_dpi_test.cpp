// The GFW's passive DPI on live traffic: a connection that opens with 1,000 random
// bytes is flagged and its (server, port, tcp) blocked; a TLS handshake and an HTTP
// request are exempt; nDPI's verdict is recorded for every flow.
#include <gtest/gtest.h>

#include "censor/dpi/passive_dpi.hpp"
#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

const FlowRecord* find_flow(const std::vector<FlowRecord>& flows, std::uint16_t port) {
  for (const auto& f : flows) {
    if (f.server_port == port && f.fully_encrypted_judged) return &f;
  }
  return nullptr;
}

TEST(FullyEncryptedDpi, BlocksRandomFirstPacketsAndExemptsTlsAndHttp) {
  SKIP_WITHOUT_NETNS();
  Testbed bed({}, /*hold_inside=*/true);
  for (std::uint16_t port : {7001, 7002, 7003, 7777}) {
    bed.serve("server", {"bystander", "--listen", "0.0.0.0:" + std::to_string(port)}, port);
  }
  bed.serve("server", {"serve", "--listen", "0.0.0.0:443"}, 443);
  bed.serve_website("neighbour");
  DpiPolicy policy;
  policy.fully_encrypted = true;
  policy.block_probability = 1.0;  // the GFW's 0.26, raised so one connection decides
  policy.block_seconds = 60;
  policy.inline_hold = true;
  auto dpi = PassiveDpi::start(bed.censor_ns(), policy, &bed.firewall(), {});
  ASSERT_TRUE(dpi.ok()) << dpi.error().message;

  for (std::uint16_t port : {7001, 7002, 7003}) {
    bed.client({"send-random", "--server", "203.0.113.10:" + std::to_string(port), "--bytes", "1000",
                "--timeout", "2"});
  }
  EXPECT_TRUE(bed.send("203.0.113.10:443", "--sni", "www.example.com"));  // TLS-shaped first packet
  EXPECT_EQ(bed.client({"check", "--http", "--server", "203.0.113.20:80", "--timeout", "2"}).exit_code, 0);

  // Random first packets: flagged (all but ~0.3% of random strings), and their 3-tuple blocked.
  int blocked_ports = 0;
  for (std::uint16_t port : {7001, 7002, 7003}) {
    if (bed.client({"check", "--server", "203.0.113.10:" + std::to_string(port), "--timeout", "1"})
            .exit_code != 0) {
      ++blocked_ports;
    }
  }
  EXPECT_GE(blocked_ports, 2);
  EXPECT_EQ(bed.client({"check", "--server", "203.0.113.10:7777", "--timeout", "1.5"}).exit_code, 0);

  (*dpi)->stop();
  const auto flows = (*dpi)->flows();
  int suspects = 0;
  for (std::uint16_t port : {7001, 7002, 7003}) {
    const auto* f = find_flow(flows, port);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->first_payload_length, 1000u);
    suspects += f->fully_encrypted.suspect ? 1 : 0;
    EXPECT_TRUE(f->ndpi_done);
  }
  EXPECT_GE(suspects, 2);
  const auto* tls = find_flow(flows, 443);
  ASSERT_NE(tls, nullptr);
  EXPECT_FALSE(tls->fully_encrypted.suspect);
  EXPECT_TRUE(tls->ndpi_done);
  EXPECT_EQ(tls->ndpi.master.empty() ? tls->ndpi.protocol : tls->ndpi.master, "TLS") << tls->ndpi.protocol;
  const auto* http = find_flow(flows, 80);
  ASSERT_NE(http, nullptr);
  EXPECT_FALSE(http->fully_encrypted.suspect);
  EXPECT_TRUE(http->ndpi_done);
  EXPECT_EQ(http->ndpi.protocol.rfind("HTTP", 0), 0u)
      << http->ndpi.protocol;  // nDPI may add a port-based guess
}

TEST(FullyEncryptedDpi, BlockProbabilityZeroFlagsButLetsThrough) {
  SKIP_WITHOUT_NETNS();
  Testbed bed({}, /*hold_inside=*/true);
  bed.serve("server", {"bystander", "--listen", "0.0.0.0:7001"}, 7001);
  DpiPolicy policy;
  policy.fully_encrypted = true;
  policy.block_probability = 0.0;
  policy.inline_hold = true;
  int suspects_reported = 0;
  DpiCallbacks callbacks;
  callbacks.on_suspect = [&](const ProbeRequest&) { ++suspects_reported; };
  auto dpi = PassiveDpi::start(bed.censor_ns(), policy, &bed.firewall(), callbacks);
  ASSERT_TRUE(dpi.ok());
  for (int i = 0; i < 3; ++i) {
    bed.client({"send-random", "--server", "203.0.113.10:7001", "--bytes", "1000", "--timeout", "2"});
  }
  EXPECT_EQ(bed.client({"check", "--server", "203.0.113.10:7001", "--timeout", "1.5"}).exit_code, 0);
  (*dpi)->stop();
  EXPECT_GE(suspects_reported, 2);
  EXPECT_EQ(bed.firewall().packet_counters()->at("fully_encrypted_drop"), 0u);
}

}  // namespace
}  // namespace samizdat::censor::testing
