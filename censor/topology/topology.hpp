// The testbed network: one censor namespace routing between "inside" hosts
// (clients) and "outside" hosts (servers, relays, bystanders), each host its own
// namespace joined to the censor by a veth link. Torn down when destroyed.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "censor/sys/netns.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

enum class Side { inside, outside };

struct HostSpec {
  std::string name;
  Side side = Side::outside;
  std::vector<std::string> addresses;  // IPv4, first one is the source address
};

struct Host {
  HostSpec spec;
  NetworkNamespace ns;
  std::string censor_interface;  // the censor's end of this host's link
  std::string transit_censor;    // censor address on the link (the host's gateway)
};

class Topology {
 public:
  // The censor's own service address (its resolver), reachable from every host.
  static constexpr const char* kCensorServiceAddress = "192.168.253.53";

  // Builds the namespaces and links; on failure everything built so far is removed.
  static Result<std::unique_ptr<Topology>> create(const std::vector<HostSpec>& hosts);
  ~Topology();

  [[nodiscard]] const std::string& censor_ns() const { return censor_.name(); }
  [[nodiscard]] Result<const Host*> host(const std::string& name) const;
  [[nodiscard]] const std::vector<std::unique_ptr<Host>>& hosts() const { return hosts_; }
  // Every interface of the censor that faces a host on `side`.
  [[nodiscard]] std::vector<std::string> censor_interfaces(Side side) const;
  // Adds an address to a host (a service moving to a new address) and routes it.
  Status add_address(const std::string& host, const std::string& address);
  // Whether the address belongs to an inside host.
  [[nodiscard]] bool is_inside(const std::string& address) const;

 private:
  Topology() = default;
  Status add_host(const HostSpec& spec);
  NetworkNamespace censor_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

}  // namespace samizdat::censor
