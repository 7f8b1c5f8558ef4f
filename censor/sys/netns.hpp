// Network namespaces owned by this process: created with a "szc-<pid>-" prefix so
// a later run can sweep the ones a crashed run left behind, and deleted on scope exit.
#pragma once

#include <string>
#include <vector>

#include "util/result.hpp"

namespace samizdat::censor {

inline constexpr const char* kNetnsPrefix = "szc-";

// "szc-<pid>-<role>"; role is short (namespace names are also used in paths).
std::string netns_name_for(const std::string& role);

class NetworkNamespace {
 public:
  // Creates the namespace with loopback up and /etc/netns/<name>/ for per-namespace files.
  static Result<NetworkNamespace> create(const std::string& name);
  NetworkNamespace() = default;
  NetworkNamespace(NetworkNamespace&& other) noexcept;
  NetworkNamespace& operator=(NetworkNamespace&& other) noexcept;
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;
  ~NetworkNamespace();

  [[nodiscard]] const std::string& name() const { return name_; }
  // Writes /etc/netns/<name>/resolv.conf so programs started with ip netns exec use `resolver`.
  Status set_resolver(const std::string& resolver) const;
  void destroy();

 private:
  std::string name_;
};

// Kills every process in the namespace, deletes it and its /etc/netns directory.
void destroy_netns(const std::string& name);

// Deletes namespaces with our prefix whose creating process is gone; returns their names.
std::vector<std::string> sweep_stale_namespaces();

// Moves the calling thread into the namespace; sockets it opens afterwards live there.
Status enter_netns(const std::string& name);

// Whether this process may create namespaces (root with CAP_SYS_ADMIN and ip(8) present).
Status check_netns_privileges();

}  // namespace samizdat::censor
