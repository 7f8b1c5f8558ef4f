// The resolver the clients use, run by the censor (dnsmasq in the censor namespace):
// answers the testbed's names from a hosts file and poisons listed domains (and
// their subdomains) with a sinkhole address, as ISP resolvers do under RKN orders.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "censor/sys/command.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

struct DnsOptions {
  std::string censor_ns;
  std::string listen_address;                  // the censor's service address
  std::map<std::string, std::string> records;  // name -> IPv4 address
  std::vector<std::string> poisoned;           // domains answered with sinkhole
  std::vector<std::string> txt_records;        // "name,text" (dnsmasq --txt-record)
  std::string sinkhole = "0.0.0.0";
  std::string work_dir;  // hosts file and query log live here
};

class DnsResolver {
 public:
  static Result<DnsResolver> start(DnsOptions options);
  // Points a name at a new address (a service that moved); dnsmasq re-reads on SIGHUP.
  Status set_record(const std::string& name, const std::string& address);
  // Adds domains to the poison list (restarts dnsmasq: its --address options are fixed at start).
  Status poison(const std::vector<std::string>& domains);
  // Serves the TXT records of a dnsmasq snippet (`txt-record=NAME,TEXT` lines, e.g. what
  // `samizdatd map publish` writes), replacing those served before (restarts dnsmasq). The
  // censor's resolver resolves recursively, so an operator's zone reaches the clients this
  // way unless the censor poisons the name. Returns how many records it serves.
  Result<std::size_t> serve_txt_records(const std::string& dnsmasq_snippet_file);
  [[nodiscard]] const std::vector<std::string>& poisoned() const { return options_.poisoned; }
  [[nodiscard]] std::string query_log_path() const { return options_.work_dir + "/dnsmasq.log"; }
  void stop() { process_.stop(); }

 private:
  Status write_hosts() const;
  Status launch();
  DnsOptions options_;
  BackgroundProcess process_;
};

// Domain names as dnsmasq accepts them (letters, digits, '-', '.'), to keep junk out of argv.
bool is_plain_domain(const std::string& name);

}  // namespace samizdat::censor
