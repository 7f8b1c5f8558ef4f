#include "censor/block/dns_resolver.hpp"

#include <signal.h>

#include <fstream>
#include <thread>

#include "censor/block/ipv4.hpp"

namespace samizdat::censor {

bool is_plain_domain(const std::string& name) {
  return !name.empty() && name.size() < 254 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
             std::string::npos;
}

Result<DnsResolver> DnsResolver::start(DnsOptions options) {
  for (const auto& [name, address] : options.records) {
    if (!is_plain_domain(name)) return make_error(Errc::invalid_argument, "bad DNS name '" + name + "'");
    SZ_TRY(parse_ipv4(address));
  }
  for (const auto& domain : options.poisoned) {
    if (!is_plain_domain(domain)) return make_error(Errc::invalid_argument, "bad DNS name '" + domain + "'");
  }
  DnsResolver resolver;
  resolver.options_ = std::move(options);
  SZ_CHECK(resolver.write_hosts());
  SZ_CHECK(resolver.launch());
  return resolver;
}

Status DnsResolver::write_hosts() const {
  const std::string path = options_.work_dir + "/dns-hosts";
  std::ofstream out(path + ".tmp");
  for (const auto& [name, address] : options_.records) {
    // dnsmasq prefers hosts-file answers to --address: a poisoned name must not be listed.
    bool poisoned = false;
    for (const auto& domain : options_.poisoned) {
      poisoned = poisoned || name == domain || (name.size() > domain.size() && name.ends_with("." + domain));
    }
    if (!poisoned) out << address << ' ' << name << '\n';
  }
  out.close();
  if (!out || std::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
    return make_error(Errc::io, "cannot write " + path);
  }
  return {};
}

Status DnsResolver::launch() {
  process_.stop();
  Argv argv{"dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--user=root",
            "--pid-file=",
            "--bind-interfaces",
            "--listen-address=" + options_.listen_address,
            "--port=53",
            "--cache-size=0",  // a moved record must be seen at once
            "--log-queries",
            "--log-facility=" + query_log_path(),
            "--addn-hosts=" + options_.work_dir + "/dns-hosts"};
  for (const auto& domain : options_.poisoned)
    argv.push_back("--address=/" + domain + "/" + options_.sinkhole);
  for (const auto& record : options_.txt_records) argv.push_back("--txt-record=" + record);
  process_ = SZ_TRY(BackgroundProcess::start(argv, options_.work_dir + "/dnsmasq.out", options_.censor_ns));
  // dnsmasq binds within milliseconds; a short wait avoids a first query racing the bind.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (!process_.running()) {
      return make_error(Errc::unavailable,
                        "dnsmasq exited at start; see " + options_.work_dir + "/dnsmasq.out");
    }
  }
  return {};
}

Status DnsResolver::set_record(const std::string& name, const std::string& address) {
  if (!is_plain_domain(name)) return make_error(Errc::invalid_argument, "bad DNS name '" + name + "'");
  SZ_TRY(parse_ipv4(address));
  options_.records[name] = address;
  SZ_CHECK(write_hosts());
  process_.signal(SIGHUP);
  return {};
}

Result<std::size_t> DnsResolver::serve_txt_records(const std::string& dnsmasq_snippet_file) {
  std::ifstream in(dnsmasq_snippet_file);
  if (!in) return make_error(Errc::not_found, "cannot read DNS TXT records from " + dnsmasq_snippet_file);
  std::vector<std::string> records;
  std::string line;
  constexpr std::string_view kPrefix = "txt-record=";
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    if (!line.starts_with(kPrefix) || line.size() > 4096 || records.size() >= 1024) {
      return make_error(Errc::malformed,
                        dnsmasq_snippet_file + " has a line that is not a txt-record (or too many)");
    }
    std::string record = line.substr(kPrefix.size());
    const auto comma = record.find(',');
    if (comma == std::string::npos || !is_plain_domain(record.substr(0, comma))) {
      return make_error(Errc::malformed,
                        dnsmasq_snippet_file + ": txt-record needs NAME,TEXT with a plain name");
    }
    records.push_back(std::move(record));
  }
  options_.txt_records = std::move(records);
  SZ_CHECK(launch());
  return options_.txt_records.size();
}

Status DnsResolver::poison(const std::vector<std::string>& domains) {
  for (const auto& domain : domains) {
    if (!is_plain_domain(domain)) return make_error(Errc::invalid_argument, "bad DNS name '" + domain + "'");
    options_.poisoned.push_back(domain);
  }
  SZ_CHECK(write_hosts());
  return launch();
}

}  // namespace samizdat::censor
