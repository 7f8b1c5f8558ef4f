// The active prober against live servers: a naive fully-encrypted server (the
// encrypted control) is confirmed by replay and blocked; a website and a banner
// service are left alone.
#include "censor/probe/active_prober.hpp"

#include <gtest/gtest.h>

#include <future>

#include "censor/dpi/passive_dpi.hpp"
#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

constexpr const char* kKey = "5a6d6c7a64617420636f6e74726f6c206b65792c206e6f742061207365637265";

// Probes from a thread inside the censor namespace, as the prober does.
ProbeResult probe_from_censor(Testbed& bed, const ProbeRequest& request, const ProberPolicy& policy) {
  return std::async(std::launch::async,
                    [&] {
                      if (!enter_netns(bed.censor_ns())) throw std::runtime_error("setns failed");
                      return ActiveProber::probe_now(request, policy);
                    })
      .get();
}

TEST(ActiveProber, ConfirmsAndBlocksANaiveEncryptedServer) {
  SKIP_WITHOUT_NETNS();
  Testbed bed({}, /*hold_inside=*/true);
  bed.serve("server", {"serve", "--listen", "0.0.0.0:8388", "--key", kKey}, 8388);
  ProberPolicy prober_policy;
  prober_policy.read_timeout_s = 1.0;
  std::promise<ProbeResult> done;
  auto prober = ActiveProber::start(bed.censor_ns(), prober_policy, &bed.firewall(),
                                    [&](const ProbeResult& r) { done.set_value(r); });
  ASSERT_TRUE(prober.ok()) << prober.error().message;
  DpiPolicy policy;
  policy.fully_encrypted = true;
  policy.block_probability = 0.0;  // leave it to the prober
  policy.inline_hold = true;
  DpiCallbacks callbacks;
  callbacks.on_suspect = [&](const ProbeRequest& r) { (*prober)->request(r); };
  auto dpi = PassiveDpi::start(bed.censor_ns(), policy, &bed.firewall(), callbacks);
  ASSERT_TRUE(dpi.ok());

  // Random-looking first packets are flagged ~99.7% of the time; a few messages make it certain.
  bool delivered = false;
  for (int i = 0; i < 3; ++i) delivered = bed.send("203.0.113.10:8388", "--key", kKey) || delivered;
  EXPECT_TRUE(delivered);
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto result = future.get();
  EXPECT_TRUE(result.decision.replay_accepted);
  EXPECT_TRUE(result.decision.block);
  EXPECT_FALSE(result.decision.answers_http);
  EXPECT_EQ(result.reactions.size(), 2 + prober_policy.random_lengths.size() + 2);
  EXPECT_FALSE(bed.send("203.0.113.10:8388", "--key", kKey));  // the address is blocked now
  EXPECT_GT(bed.firewall().packet_counters()->at("prober_drop"), 0u);
}

TEST(ActiveProber, LeavesAWebsiteAndABannerServiceAlone) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve_website("neighbour");
  bed.serve("server", {"bystander", "--listen", "0.0.0.0:7777"}, 7777);
  ProberPolicy policy;
  policy.read_timeout_s = 1.0;
  Bytes replay(200);
  for (std::size_t i = 0; i < replay.size(); ++i) replay[i] = static_cast<std::uint8_t>(i * 131 + 7);

  auto website = probe_from_censor(bed, {Testbed::kNeighbour, 80, replay}, policy);
  EXPECT_TRUE(website.decision.answers_http);
  EXPECT_FALSE(website.decision.block) << website.decision.reasons.front();
  auto banner = probe_from_censor(bed, {Testbed::kServer, 7777, replay}, policy);
  EXPECT_FALSE(banner.decision.block) << banner.decision.reasons.front();
}

}  // namespace
}  // namespace samizdat::censor::testing
