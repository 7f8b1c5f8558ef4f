// A whitelisting censor: nDPI classifies each flow and the (server, port, tcp) of flows
// it cannot name ("Unknown") is blocked; HTTP it recognises passes.
#include <gtest/gtest.h>

#include "censor/dpi/passive_dpi.hpp"
#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

bool reachable(Testbed& bed, const std::string& server, bool http) {
  Argv args{"check", "--server", server, "--timeout", "1"};
  if (http) args.push_back("--http");
  return bed.client(args).exit_code == 0;
}

TEST(ProtocolClassification, BlocksWhatNdpiCannotNameAndPassesHttp) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve("server", {"bystander", "--listen", "0.0.0.0:7001"}, 7001);
  bed.serve_website("neighbour");
  DpiPolicy policy;
  policy.block_protocols = {"Unknown", "Tor"};
  policy.protocol_block_seconds = 30;
  policy.ndpi_max_packets = 6;
  auto dpi = PassiveDpi::start(bed.censor_ns(), policy, &bed.firewall(), {});
  ASSERT_TRUE(dpi.ok()) << dpi.error().message;

  bed.client({"send-random", "--server", "203.0.113.10:7001", "--bytes", "1000", "--timeout", "2"});
  ASSERT_TRUE(reachable(bed, "203.0.113.20:80", true));
  // The verdict comes after a few packets or when the flow ends; give it a few seconds.
  bool blocked = false;
  for (int i = 0; i < 8 && !blocked; ++i) {
    blocked = !reachable(bed, "203.0.113.10:7001", false);
    if (!blocked) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(blocked);
  EXPECT_TRUE(reachable(bed, "203.0.113.20:80", true));  // HTTP is on the whitelist's good side
  EXPECT_GT(bed.firewall().packet_counters()->at("protocol_drop"), 0u);
  (*dpi)->stop();
  bool saw_unknown = false, saw_http = false;
  for (const auto& f : (*dpi)->flows()) {
    if (!f.ndpi_done) continue;
    if (f.server_port == 7001 && (f.ndpi.protocol == "Unknown" || f.ndpi.guessed)) saw_unknown = true;
    if (f.server_port == 80 && f.ndpi.protocol.rfind("HTTP", 0) == 0) saw_http = true;
  }
  EXPECT_TRUE(saw_unknown);
  EXPECT_TRUE(saw_http);
}

}  // namespace
}  // namespace samizdat::censor::testing
