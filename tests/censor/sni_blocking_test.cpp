// SNI-based reset and throttling (TSPU 2021): the DPI reads the server name from the
// first client packet and puts the flow in an nftables set that resets it or
// rate-limits it to ~150 kbit/s by dropping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "censor/dpi/passive_dpi.hpp"
#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

double fetch_bits_per_second(Testbed& bed, const std::string& sni, std::size_t bytes) {
  auto out = bed.client({"fetch", "--server", "203.0.113.10:443", "--sni", sni, "--bytes",
                         std::to_string(bytes), "--timeout", "20"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  auto json = nlohmann::json::parse(out.out, nullptr, false);
  return json.is_discarded() ? 0.0 : json.value("bits_per_second", 0.0);
}

TEST(SniBlocking, ResetsFlowsNamingAListedDomainOnly) {
  SKIP_WITHOUT_NETNS();
  Testbed bed({}, /*hold_inside=*/true);
  bed.serve("server", {"serve", "--listen", "0.0.0.0:443"}, 443);
  DpiPolicy policy;
  policy.sni_reset = {"blocked.example"};
  policy.inline_hold = true;
  auto dpi = PassiveDpi::start(bed.censor_ns(), policy, &bed.firewall(), {});
  ASSERT_TRUE(dpi.ok()) << dpi.error().message;

  EXPECT_TRUE(bed.send("203.0.113.10:443", "--sni", "www.fine.example"));
  EXPECT_TRUE(bed.send("203.0.113.10:443", "--sni", "notblocked.example"));  // suffix, not subdomain
  auto out = bed.client({"send", "--server", "203.0.113.10:443", "--sni", "www.blocked.example", "--message",
                         "x", "--timeout", "2"});
  EXPECT_NE(out.exit_code, 0);
  EXPECT_GT(bed.firewall().packet_counters()->at("sni_reset"), 0u);
  (*dpi)->stop();
  bool recorded = false;
  for (const auto& flow : (*dpi)->flows()) {
    if (flow.sni == "www.blocked.example") recorded = !flow.actions.empty();
  }
  EXPECT_TRUE(recorded);
}

TEST(SniBlocking, ThrottlesListedDomainsToAboutTheConfiguredRate) {
  SKIP_WITHOUT_NETNS();
  FirewallOptions options;
  options.throttle_bits_per_second = 150'000;
  Testbed bed(options, /*hold_inside=*/true);
  bed.serve("server", {"serve", "--listen", "0.0.0.0:443"}, 443);
  DpiPolicy policy;
  policy.sni_throttle = {"twimg.example"};
  policy.inline_hold = true;
  auto dpi = PassiveDpi::start(bed.censor_ns(), policy, &bed.firewall(), {});
  ASSERT_TRUE(dpi.ok()) << dpi.error().message;

  // 48 KiB: about 2.6 s at 150 kbit/s, a few milliseconds unthrottled.
  const double free_rate = fetch_bits_per_second(bed, "www.fine.example", 48 * 1024);
  const double throttled = fetch_bits_per_second(bed, "pbs.twimg.example", 48 * 1024);
  EXPECT_GT(free_rate, 10 * 150'000.0);
  EXPECT_GT(throttled, 0.0);
  EXPECT_LT(throttled, 2 * 150'000.0);
  EXPECT_GT(bed.firewall().packet_counters()->at("sni_throttle"), 0u);
}

}  // namespace
}  // namespace samizdat::censor::testing
