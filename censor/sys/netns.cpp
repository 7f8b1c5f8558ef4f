#include "censor/sys/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "censor/sys/command.hpp"
#include "util/log.hpp"

namespace samizdat::censor {
namespace fs = std::filesystem;

std::string netns_name_for(const std::string& role) {
  return std::string(kNetnsPrefix) + std::to_string(::getpid()) + "-" + role;
}

Result<NetworkNamespace> NetworkNamespace::create(const std::string& name) {
  if (name.rfind(kNetnsPrefix, 0) != 0) {
    return make_error(Errc::invalid_argument, "namespace name must start with " + std::string(kNetnsPrefix));
  }
  SZ_TRY(run_checked({"ip", "netns", "add", name}));
  NetworkNamespace ns;
  ns.name_ = name;  // from here on the destructor cleans up
  SZ_TRY(run_checked({"ip", "link", "set", "lo", "up"}, {.netns = name}));
  std::error_code ec;
  fs::create_directories("/etc/netns/" + name, ec);
  return ns;
}

NetworkNamespace::NetworkNamespace(NetworkNamespace&& other) noexcept : name_(std::move(other.name_)) {
  other.name_.clear();
}

NetworkNamespace& NetworkNamespace::operator=(NetworkNamespace&& other) noexcept {
  if (this != &other) {
    destroy();
    name_ = std::move(other.name_);
    other.name_.clear();
  }
  return *this;
}

NetworkNamespace::~NetworkNamespace() { destroy(); }

void NetworkNamespace::destroy() {
  if (name_.empty()) return;
  destroy_netns(name_);
  name_.clear();
}

Status NetworkNamespace::set_resolver(const std::string& resolver) const {
  std::ofstream out("/etc/netns/" + name_ + "/resolv.conf");
  out << "# written by samizdat-censor for this namespace only\nnameserver " << resolver << "\n";
  if (!out) return make_error(Errc::io, "cannot write /etc/netns/" + name_ + "/resolv.conf");
  return {};
}

void destroy_netns(const std::string& name) {
  auto pids = run({"ip", "netns", "pids", name}, {.timeout = std::chrono::seconds(5)});
  if (pids && pids->exit_code == 0) {
    std::istringstream in(pids->out);
    int pid = 0;
    while (in >> pid) {
      if (pid > 1 && pid != ::getpid()) ::kill(pid, SIGKILL);
    }
  }
  auto deleted = run({"ip", "netns", "del", name}, {.timeout = std::chrono::seconds(10)});
  if (!deleted || deleted->exit_code != 0) {
    spdlog::warn("could not delete network namespace {}: {}", name,
                 deleted ? deleted->err : deleted.error().message);
  }
  std::error_code ec;
  fs::remove_all("/etc/netns/" + name, ec);
}

std::vector<std::string> sweep_stale_namespaces() {
  std::vector<std::string> swept;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kNetnsPrefix, 0) != 0) continue;
    const std::string rest = name.substr(std::strlen(kNetnsPrefix));
    int pid = 0;
    try {
      pid = std::stoi(rest);
    } catch (...) {
      continue;
    }
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // owner still alive
    spdlog::info("sweeping stale namespace {} (its run, pid {}, is gone)", name, pid);
    destroy_netns(name);
    swept.push_back(name);
  }
  for (const auto& entry : fs::directory_iterator("/etc/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kNetnsPrefix, 0) == 0 && !fs::exists("/run/netns/" + name))
      fs::remove_all(entry.path(), ec);
  }
  return swept;
}

Status enter_netns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(Errc::not_found, "network namespace " + name + " not found: " + std::strerror(errno));
  int rc = ::setns(fd, CLONE_NEWNET);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return make_error(Errc::io, "setns into " + name + " failed: " + std::strerror(saved));
  return {};
}

Status check_netns_privileges() {
  if (::geteuid() != 0) {
    return make_error(Errc::unavailable,
                      "samizdat-censor needs root: it creates network namespaces, veth links and "
                      "nftables rules. Run it with sudo (or as root in CI).");
  }
  auto probe = run({"ip", "netns", "list"}, {.timeout = std::chrono::seconds(5)});
  if (!probe || probe->exit_code != 0) {
    return make_error(Errc::unavailable,
                      "ip(8) from iproute2 is missing or not working; run scripts/install-deps");
  }
  // Root without CAP_SYS_ADMIN (some containers) cannot create namespaces: try one.
  auto ns = NetworkNamespace::create(netns_name_for("probe"));
  if (!ns) return make_error(Errc::unavailable, "cannot create a network namespace: " + ns.error().message);
  return {};
}

}  // namespace samizdat::censor
