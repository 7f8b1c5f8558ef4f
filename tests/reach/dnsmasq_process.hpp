// dnsmasq (Debian dnsmasq-base) as a child of the test: an authoritative-looking DNS server
// on 127.0.0.1 serving the given config (e.g. the txt-record lines `map publish` writes).
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "reach/channels/dns_txt_map.hpp"
#include "support/child_process.hpp"
#include "support/loopback.hpp"

namespace samizdat::reach::testing {

class Dnsmasq {
 public:
  // `address`/`port` (0: a free one) let a test put it where /etc/resolv.conf points.
  explicit Dnsmasq(const std::string& config_text, const std::string& address = "127.0.0.1",
                   std::uint16_t port = 0)
      : address_(address) {
    dir_ = std::filesystem::temp_directory_path() /
           ("samizdat-dnsmasq-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "txt.conf") << config_text;
    port_ = port != 0 ? port : samizdat::testing::free_port();
    process_ = samizdat::testing::start_helper_server(
        {"/usr/sbin/dnsmasq", "--no-daemon", "--port=" + std::to_string(port_),
         "--listen-address=" + address_, "--bind-interfaces", "--no-resolv", "--no-hosts",
         "--local=/samizdat.test/", "--conf-file=" + (dir_ / "txt.conf").string(),
         "--pid-file=", "--user=root", "--log-facility=" + (dir_ / "log").string()});
  }
  ~Dnsmasq() {
    process_.stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  DnsLookupOptions options(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) const {
    return DnsLookupOptions{asio::ip::udp::endpoint(asio::ip::make_address(address_), port_), timeout};
  }
  // dnsmasq needs a moment to bind: retry until it answers (bounded: 5 s).
  Result<Bytes> fetch(const std::string& name) const {
    Result<Bytes> result = make_error(Errc::timeout, "dnsmasq never answered");
    for (int i = 0; i < 50; ++i) {
      result = fetch_map_from_dns_blocking(name, options(std::chrono::milliseconds(500)));
      if (result.ok() || result.error().code != Errc::timeout) return result;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return result;
  }

 private:
  static inline int counter_ = 0;
  std::string address_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  samizdat::testing::ChildProcess process_;
};

}  // namespace samizdat::reach::testing
