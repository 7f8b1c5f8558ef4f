// A small censor testbed for the mechanism tests: real namespaces, the censor's
// nftables table and the real control binary. Tests that need root skip without it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "censor/block/firewall.hpp"
#include "censor/sys/command.hpp"
#include "censor/sys/netns.hpp"
#include "censor/topology/topology.hpp"

namespace samizdat::censor::testing {

inline std::string control_binary() {
  return std::string(SAMIZDAT_BINARY_DIR) + "/censor/samizdat-censor-control";
}
inline std::string censor_binary() { return std::string(SAMIZDAT_BINARY_DIR) + "/censor/samizdat-censor"; }

// Empty when namespaces work here; otherwise why not.
inline std::string netns_unavailable_reason() {
  static const std::string reason = [] {
    auto status = check_netns_privileges();
    return status ? std::string() : status.error().message;
  }();
  return reason;
}

#define SKIP_WITHOUT_NETNS()                                                                              \
  do {                                                                                                    \
    const auto reason_ = ::samizdat::censor::testing::netns_unavailable_reason();                         \
    if (!reason_.empty()) GTEST_SKIP() << "needs root and network namespaces (CI has them): " << reason_; \
  } while (0)

// client (inside) -> censor -> server 203.0.113.10 and neighbour 203.0.113.20 (outside).
class Testbed {
 public:
  static constexpr const char* kServer = "203.0.113.10";
  static constexpr const char* kNeighbour = "203.0.113.20";

  explicit Testbed(FirewallOptions options = {}, bool hold_inside = false) {
    sweep_stale_namespaces();
    auto topology = Topology::create({{"client", Side::inside, {"10.10.0.2"}},
                                      {"server", Side::outside, {kServer}},
                                      {"neighbour", Side::outside, {kNeighbour}}});
    if (!topology) throw std::runtime_error(topology.error().message);
    topology_ = std::move(*topology);
    if (hold_inside) options.hold_until_judged = topology_->censor_interfaces(Side::inside);
    auto firewall = Firewall::install(topology_->censor_ns(), options);
    if (!firewall) throw std::runtime_error(firewall.error().message);
    firewall_ = std::move(*firewall);
  }

  std::string ns(const std::string& host) const { return (*topology_->host(host))->ns.name(); }
  const std::string& censor_ns() const { return topology_->censor_ns(); }
  Firewall& firewall() { return *firewall_; }
  Topology& topology() { return *topology_; }

  // Starts the control binary with args in host's namespace and waits until port listens.
  void serve(const std::string& host, const Argv& args, std::uint16_t port) {
    Argv argv{control_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto process = BackgroundProcess::start(argv, "", ns(host));
    if (!process) throw std::runtime_error(process.error().message);
    processes_.push_back(std::move(*process));
    wait_listening(host, port);
  }

  void serve_process(const std::string& host, const Argv& argv, std::uint16_t port) {
    auto process = BackgroundProcess::start(argv, "", ns(host));
    if (!process) throw std::runtime_error(process.error().message);
    processes_.push_back(std::move(*process));
    wait_listening(host, port);
  }

  // nginx-light serving one page on port 80 of `host` (files under a temporary directory).
  void serve_website(const std::string& host) {
    const std::string dir =
        std::filesystem::temp_directory_path() / ("szc-nginx-" + std::to_string(::getpid()) + "-" + host);
    std::filesystem::create_directories(dir + "/www");
    std::ofstream(dir + "/www/index.html") << "<html>an ordinary shop</html>\n";
    std::ofstream(dir + "/nginx.conf")
        << "user root;\nworker_processes 1;\npid " << dir << "/nginx.pid;\nerror_log " << dir
        << "/error.log;\nevents {}\nhttp {\n access_log off;\n server { listen 80; root " << dir
        << "/www; }\n}\n";
    serve_process(host, {"nginx", "-c", dir + "/nginx.conf", "-p", dir, "-g", "daemon off;"}, 80);
    temp_dirs_.push_back(dir);
  }

  ~Testbed() {
    processes_.clear();
    for (const auto& dir : temp_dirs_) std::filesystem::remove_all(dir);
  }

  void wait_listening(const std::string& host, std::uint16_t port) {
    for (int i = 0; i < 100; ++i) {
      auto out = run({"ss", "-Hltn", "sport = :" + std::to_string(port)}, {.netns = ns(host)});
      if (out && !out->out.empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("nothing listens on port " + std::to_string(port));
  }

  // Runs the control binary as a client from `host`.
  CommandOutput client(const Argv& args, const std::string& host = "client") {
    Argv argv{control_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = run(argv, {.timeout = std::chrono::seconds(30), .netns = ns(host)});
    if (!out) throw std::runtime_error(out.error().message);
    return *out;
  }

  bool send(const std::string& server, const std::string& extra_flag = "",
            const std::string& extra_value = "") {
    Argv args{"send", "--server", server, "--message", "hello", "--timeout", "1.5"};
    if (!extra_flag.empty()) {
      args.push_back(extra_flag);
      args.push_back(extra_value);
    }
    return client(args).exit_code == 0;
  }

 private:
  std::unique_ptr<Topology> topology_;
  std::optional<Firewall> firewall_;
  std::vector<BackgroundProcess> processes_;  // destroyed before the topology
  std::vector<std::string> temp_dirs_;
};

}  // namespace samizdat::censor::testing
