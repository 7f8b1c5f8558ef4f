// The censor's resolver answers listed domains (and their subdomains) with a
// sinkhole; other names still resolve.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "censor/block/dns_resolver.hpp"
#include "testbed.hpp"

namespace samizdat::censor::testing {
namespace {

TEST(DnsPoisoning, SinkholesListedDomainsAndLeavesOthersAlone) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  bed.serve("server", {"serve", "--listen", "0.0.0.0:443"}, 443);
  bed.serve("neighbour", {"bystander", "--listen", "0.0.0.0:7777"}, 7777);
  const std::string dir = std::filesystem::temp_directory_path() / ("szc-dns-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  DnsOptions options;
  options.censor_ns = bed.censor_ns();
  options.listen_address = Topology::kCensorServiceAddress;
  options.records = {{"msg.example", Testbed::kServer},
                     {"api.msg.example", Testbed::kServer},
                     {"shop.example", Testbed::kNeighbour}};
  options.work_dir = dir;
  auto resolver = DnsResolver::start(options);
  ASSERT_TRUE(resolver.ok()) << resolver.error().message;

  EXPECT_TRUE(bed.send("msg.example:443"));
  ASSERT_TRUE(resolver->poison({"msg.example"}).ok());
  auto out = bed.client({"send", "--server", "api.msg.example:443", "--message", "x", "--timeout", "1.5"});
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("poisoned"), std::string::npos) << out.err;
  EXPECT_EQ(bed.client({"check", "--server", "shop.example:7777", "--timeout", "1.5"}).exit_code, 0);
  // The service reached by address is untouched: DNS poisoning alone does not stop it.
  EXPECT_TRUE(bed.send("203.0.113.10:443"));

  // A service that moved is found at its new address once the record changes.
  ASSERT_TRUE(resolver->set_record("shop.example", Testbed::kServer).ok());
  bed.serve("server", {"bystander", "--listen", "0.0.0.0:7777"}, 7777);
  auto moved = bed.client({"check", "--server", "shop.example:7777", "--timeout", "1.5"});
  EXPECT_EQ(moved.exit_code, 0) << moved.err;
  resolver->stop();
  std::filesystem::remove_all(dir);
}

TEST(DnsPoisoning, ServesAnOperatorsTxtRecordsAndRefusesJunkSnippets) {
  SKIP_WITHOUT_NETNS();
  Testbed bed;
  const std::string dir =
      std::filesystem::temp_directory_path() / ("szc-dns-txt-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  DnsOptions options;
  options.censor_ns = bed.censor_ns();
  options.listen_address = Topology::kCensorServiceAddress;
  options.work_dir = dir;
  auto resolver = DnsResolver::start(options);
  ASSERT_TRUE(resolver.ok()) << resolver.error().message;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  // What `samizdatd map publish` writes (dnsmasq-txt.conf).
  auto served = resolver->serve_txt_records(
      write("good.conf", "txt-record=cfg.example,szm1.0.2.AAAA\ntxt-record=cfg.example,szm1.1.2.BBBB\n"));
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_EQ(*served, 2u);
  auto junk = resolver->serve_txt_records(write("junk.conf", "server=/example/8.8.8.8\n"));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code, Errc::malformed);
  auto bad_name =
      resolver->serve_txt_records(write("name.conf", "txt-record=cfg.example --conf-file=/etc/passwd,x\n"));
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().message.find("plain name"), std::string::npos) << bad_name.error().message;
  EXPECT_EQ(resolver->serve_txt_records(dir + "/missing.conf").error().code, Errc::not_found);
  resolver->stop();
  std::filesystem::remove_all(dir);
}

TEST(DnsPoisoning, RefusesNamesThatAreNotPlainDomains) {
  EXPECT_FALSE(is_plain_domain("a.example --conf-file=/etc/passwd"));
  EXPECT_FALSE(is_plain_domain(""));
  EXPECT_TRUE(is_plain_domain("api.msg.example"));
}

}  // namespace
}  // namespace samizdat::censor::testing
