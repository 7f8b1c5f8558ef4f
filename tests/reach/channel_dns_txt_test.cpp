// Channel 3 against a real DNS server: dnsmasq (Debian dnsmasq-base) started by the test on
// 127.0.0.1, serving the TXT records `samizdatd map publish` renders.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "dnsmasq_process.hpp"
#include "map_test_support.hpp"
#include "reach/channels/dns_message.hpp"
#include "reach/channels/dns_txt_map.hpp"

namespace samizdat::reach {
namespace {

using ::testing::HasSubstr;
using namespace samizdat::reach::testing;

constexpr const char* kName = "map.samizdat.test";

TEST(ChannelDnsTxt, PublishedRecordsServedByDnsmasqGiveBackAnAcceptableMap) {
  Operator op;
  auto bytes = op.sign(sample_map(21, 3));
  auto records = render_map_txt_records(bytes);
  for (const auto& record : records) EXPECT_LE(record.size(), 255u);
  Dnsmasq dns(render_dnsmasq_txt_config(kName, records));
  auto fetched = dns.fetch(kName);
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(*fetched, bytes);
  auto accepted = accept_map(nullptr, *fetched, op.root.public_key, kNow);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->map.version, 21u);
}

TEST(ChannelDnsTxt, ALargeMapTruncatedOverUdpIsFetchedOverTcp) {
  Operator op;
  auto bytes = op.sign(sample_map(22, 40));  // ~5 KB: far over a 512-byte UDP answer
  auto records = render_map_txt_records(bytes);
  ASSERT_GT(records.size(), 10u);
  Dnsmasq dns(render_dnsmasq_txt_config(kName, records));
  auto fetched = dns.fetch(kName);
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_TRUE(accept_map(nullptr, *fetched, op.root.public_key, kNow).ok());
}

TEST(ChannelDnsTxt, TwoMapsPublishedDuringARolloverStillYieldAValidOne) {
  Operator op;
  auto old_records = render_map_txt_records(op.sign(sample_map(30, 2)));
  auto new_records = render_map_txt_records(op.sign(sample_map(31, 2)));
  old_records.insert(old_records.end(), new_records.begin(), new_records.end());
  Dnsmasq dns(render_dnsmasq_txt_config(kName, old_records));
  auto fetched = dns.fetch(kName);
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_TRUE(accept_map(nullptr, *fetched, op.root.public_key, kNow).ok());
}

TEST(ChannelDnsTxt, AMissingChunkIsReportedByNumber) {
  Operator op;
  auto records = render_map_txt_records(op.sign(sample_map(23, 10)));
  ASSERT_GT(records.size(), 4u);
  records.erase(records.begin() + 3);
  Dnsmasq dns(render_dnsmasq_txt_config(kName, records));
  auto fetched = dns.fetch(kName);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, Errc::malformed);
  EXPECT_THAT(fetched.error().message,
              HasSubstr("chunk 3 of " + std::to_string(records.size() + 1) + " missing"));
}

TEST(ChannelDnsTxt, ABitFlippedChunkIsCaughtByTheDigest) {
  Operator op;
  auto records = render_map_txt_records(op.sign(sample_map(24, 3)));
  auto& victim = records[1];
  victim[victim.size() - 5] = victim[victim.size() - 5] == 'A' ? 'B' : 'A';
  auto result = reassemble_map_txt_records(records);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("does not match its digest"));
}

TEST(ChannelDnsTxt, ANameWithoutRecordsIsNotFound) {
  Operator op;
  Dnsmasq dns(render_dnsmasq_txt_config(kName, render_map_txt_records(op.sign(sample_map(25, 1)))));
  ASSERT_TRUE(dns.fetch(kName).ok());
  auto missing = fetch_map_from_dns_blocking("other.samizdat.test", dns.options());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(ChannelDnsTxt, ASilentResolverTimesOutInsteadOfHanging) {
  asio::io_context io;
  asio::ip::udp::socket silent(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  DnsLookupOptions options{silent.local_endpoint(), std::chrono::milliseconds(300)};
  auto result = fetch_map_from_dns_blocking(kName, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::timeout);
}

TEST(DnsMessage, JunkResponsesAreErrorsNotCrashes) {
  auto query = *encode_txt_query("a.example", 7);
  auto response = query;
  response[2] |= 0x80;
  response[7] = 1;  // claims one answer that is not there
  EXPECT_EQ(parse_txt_response(response, 7).error().code, Errc::malformed);
  EXPECT_FALSE(parse_txt_response(query, 7).ok()) << "a query is not a response";
  EXPECT_FALSE(parse_txt_response(ByteView(query.data(), 5), 7).ok());
  EXPECT_FALSE(encode_txt_query("bad..name", 1).ok());
}

}  // namespace
}  // namespace samizdat::reach
