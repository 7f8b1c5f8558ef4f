// ServerProcess: a real samizdatd for the load generator — `samizdatd init` in a fresh
// temp directory, config adjusted for the run, then `samizdatd run` as a child with a
// raised descriptor limit and a parent-death signal. The destructor stops it (SIGTERM,
// then SIGKILL after a grace period) and deletes the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "transport/endpoint.hpp"
#include "util/result.hpp"

namespace samizdat::loadgen {

struct ServerSettings {
  std::filesystem::path binary;               // samizdatd
  std::map<std::string, std::string> config;  // config.toml key -> TOML value, replacing the default
  std::uint64_t max_open_files = 1 << 20;     // RLIMIT_NOFILE of the child
  std::string transport = "tcp";              // scheme of the listeners (tcp, obfs)
  std::size_t listeners = 1;                  // loopback ports, all with that scheme
};

class ServerProcess {
 public:
  static Result<std::unique_ptr<ServerProcess>> start(const ServerSettings& settings);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const transport::Endpoint& endpoint() const { return endpoints_.front(); }
  // Every listener (ServerSettings::listeners of them), in bootstrap order.
  const std::vector<transport::Endpoint>& endpoints() const { return endpoints_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& directory() const { return dir_; }
  // Still running (not exited)?
  bool alive();
  // SIGTERM, wait up to 10 s, then SIGKILL. Idempotent.
  void stop();

 private:
  ServerProcess() = default;
  std::filesystem::path root_;  // the temp dir (removed at the end)
  std::filesystem::path dir_;   // root_/server
  std::vector<transport::Endpoint> endpoints_;
  pid_t pid_ = -1;
};

// Process probes from /proc (Linux).
std::uint64_t rss_bytes(pid_t pid);  // VmRSS of /proc/PID/status; 0 if unreadable
double cpu_seconds(pid_t pid);       // utime + stime of /proc/PID/stat
// CPU seconds per thread (/proc/PID/task/TID/stat), by thread id ascending (for samizdatd:
// main, store writer, then the workers, in creation order).
std::vector<std::pair<int, double>> thread_cpu_seconds(pid_t pid);
std::uint64_t kernel_tcp_memory_bytes();  // "TCP: ... mem N" pages of /proc/net/sockstat

// Runs every registered cleanup (stop servers, remove temp dirs) on SIGINT/SIGTERM, then
// exits with 130. Call once at start-up.
void install_cleanup_on_signal();
// Adds/removes a child (pid > 0) and/or a directory (non-empty) to/from that cleanup, for
// other servers the benchmarks start (bench/peers).
void register_cleanup_target(pid_t pid, const std::filesystem::path& dir);
void unregister_cleanup_target(pid_t pid, const std::filesystem::path& dir);

}  // namespace samizdat::loadgen
