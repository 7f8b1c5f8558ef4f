// ServerProcess: a real samizdatd for the load generator (the test-support library's
// SamizdatdProcess) — `samizdatd init` in a fresh temp directory, config adjusted for the
// run, then `samizdatd run` as a child with a raised descriptor limit and a parent-death
// signal, both cleaned up on SIGINT/SIGTERM. The destructor kills it and deletes the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/samizdatd_process.hpp"
#include "support/temp_dir.hpp"
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
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const transport::Endpoint& endpoint() const { return server_.endpoints().front(); }
  // Every listener (ServerSettings::listeners of them), in bootstrap order.
  const std::vector<transport::Endpoint>& endpoints() const { return server_.endpoints(); }
  pid_t pid() const { return server_.pid(); }
  const std::filesystem::path& directory() const { return server_.dir(); }
  // Still running (not exited)?
  bool alive() { return server_.running(); }
  // SIGTERM, then SIGKILL if it does not exit in time. Idempotent.
  void stop() { server_.stop(); }

 private:
  ServerProcess(testing::TempDir root, testing::SamizdatdProcess server)
      : root_(std::move(root)), server_(std::move(server)) {}
  testing::TempDir root_;             // the temp dir (removed at the end, or by the interrupt cleanup)
  testing::SamizdatdProcess server_;  // in root_/server
};

// Process probes from /proc (Linux).
std::uint64_t rss_bytes(pid_t pid);  // VmRSS of /proc/PID/status; 0 if unreadable
double cpu_seconds(pid_t pid);       // utime + stime of /proc/PID/stat
// CPU seconds per thread (/proc/PID/task/TID/stat), by thread id ascending (for samizdatd:
// main, store writer, then the workers, in creation order).
std::vector<std::pair<int, double>> thread_cpu_seconds(pid_t pid);
std::uint64_t kernel_tcp_memory_bytes();  // "TCP: ... mem N" pages of /proc/net/sockstat
// The 1-minute load average: this machine is shared, so every result records it.
double load_average();
// Pins this process to cores 0..cores-1 (harness and servers share them: children inherit
// the mask); the cpu list, e.g. "0-1".
std::string pin_to_cores(unsigned cores);

}  // namespace samizdat::loadgen
