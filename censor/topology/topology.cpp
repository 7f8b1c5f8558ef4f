#include "censor/topology/topology.hpp"

#include <algorithm>

#include "censor/sys/command.hpp"
#include "util/log.hpp"

namespace samizdat::censor {
namespace {

// Links use /30s from 192.168.254.0/24: private, and only ever configured inside
// our namespaces, so nothing here can leak onto the real network.
constexpr int kMaxHosts = 63;

std::string transit_address(int link, int which) { return "192.168.254." + std::to_string(link * 4 + which); }

}  // namespace

Result<std::unique_ptr<Topology>> Topology::create(const std::vector<HostSpec>& hosts) {
  if (hosts.size() > static_cast<size_t>(kMaxHosts)) {
    return make_error(Errc::limit_exceeded, "at most 63 hosts per topology");
  }
  std::unique_ptr<Topology> topology(new Topology());
  topology->censor_ = SZ_TRY(NetworkNamespace::create(netns_name_for("censor")));
  const std::string& censor = topology->censor_.name();
  SZ_TRY(run_checked({"sysctl", "-q", "-w", "net.ipv4.ip_forward=1"}, {.netns = censor}));
  SZ_TRY(run_checked({"ip", "addr", "add", std::string(kCensorServiceAddress) + "/32", "dev", "lo"},
                     {.netns = censor}));
  for (const auto& spec : hosts) SZ_CHECK(topology->add_host(spec));
  return topology;
}

Topology::~Topology() {
  // Hosts first (their links vanish with them), then the censor.
  hosts_.clear();
  censor_.destroy();
}

Status Topology::add_host(const HostSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 12 ||
      spec.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return make_error(Errc::invalid_argument,
                      "host name '" + spec.name + "' must be 1-12 characters of a-z, 0-9 and '-'");
  }
  if (spec.addresses.empty()) {
    return make_error(Errc::invalid_argument, "host '" + spec.name + "' needs at least one address");
  }
  for (const auto& existing : hosts_) {
    if (existing->spec.name == spec.name) {
      return make_error(Errc::already_exists, "host '" + spec.name + "' is defined twice");
    }
  }
  const int link = static_cast<int>(hosts_.size());
  auto host = std::make_unique<Host>();
  host->spec = spec;
  host->ns = SZ_TRY(NetworkNamespace::create(netns_name_for(spec.name)));
  host->censor_interface = "h" + std::to_string(link);
  host->transit_censor = transit_address(link, 1);
  const std::string transit_host = transit_address(link, 2);
  const std::string& censor = censor_.name();
  const std::string& ns = host->ns.name();
  hosts_.push_back(std::move(host));
  Host& h = *hosts_.back();

  SZ_TRY(run_checked({"ip", "link", "add", h.censor_interface, "netns", censor, "type", "veth", "peer",
                      "name", "eth0", "netns", ns}));
  SZ_TRY(run_checked({"ip", "addr", "add", h.transit_censor + "/30", "dev", h.censor_interface},
                     {.netns = censor}));
  SZ_TRY(run_checked({"ip", "link", "set", h.censor_interface, "up"}, {.netns = censor}));
  for (const auto& address : spec.addresses) {
    SZ_TRY(run_checked({"ip", "addr", "add", address + "/32", "dev", "eth0"}, {.netns = ns}));
  }
  SZ_TRY(run_checked({"ip", "addr", "add", transit_host + "/30", "dev", "eth0"}, {.netns = ns}));
  SZ_TRY(run_checked({"ip", "link", "set", "eth0", "up"}, {.netns = ns}));
  SZ_TRY(
      run_checked({"ip", "route", "add", "default", "via", h.transit_censor, "src", spec.addresses.front()},
                  {.netns = ns}));
  for (const auto& address : spec.addresses) {
    SZ_TRY(
        run_checked({"ip", "route", "add", address + "/32", "via", transit_host, "dev", h.censor_interface},
                    {.netns = censor}));
  }
  SZ_CHECK(h.ns.set_resolver(kCensorServiceAddress));
  spdlog::debug("host {} ({}) in {} via {}", spec.name, spec.side == Side::inside ? "inside" : "outside", ns,
                h.censor_interface);
  return {};
}

Result<const Host*> Topology::host(const std::string& name) const {
  for (const auto& h : hosts_) {
    if (h->spec.name == name) return h.get();
  }
  return make_error(Errc::not_found, "no host named '" + name + "' in the scenario");
}

std::vector<std::string> Topology::censor_interfaces(Side side) const {
  std::vector<std::string> out;
  for (const auto& h : hosts_) {
    if (h->spec.side == side) out.push_back(h->censor_interface);
  }
  return out;
}

Status Topology::add_address(const std::string& name, const std::string& address) {
  for (auto& h : hosts_) {
    if (h->spec.name != name) continue;
    if (std::find(h->spec.addresses.begin(), h->spec.addresses.end(), address) != h->spec.addresses.end()) {
      return {};
    }
    const int link = static_cast<int>(&h - hosts_.data());
    SZ_TRY(run_checked({"ip", "addr", "add", address + "/32", "dev", "eth0"}, {.netns = h->ns.name()}));
    SZ_TRY(run_checked(
        {"ip", "route", "add", address + "/32", "via", transit_address(link, 2), "dev", h->censor_interface},
        {.netns = censor_.name()}));
    h->spec.addresses.push_back(address);
    return {};
  }
  return make_error(Errc::not_found, "no host named '" + name + "'");
}

bool Topology::is_inside(const std::string& address) const {
  for (const auto& h : hosts_) {
    if (h->spec.side != Side::inside) continue;
    if (std::find(h->spec.addresses.begin(), h->spec.addresses.end(), address) != h->spec.addresses.end()) {
      return true;
    }
  }
  return false;
}

}  // namespace samizdat::censor
