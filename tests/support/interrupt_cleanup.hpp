// Benchmarks that start servers (samizdat-loadgen, samizdat-peers) must not leave them, or
// their temp directories, behind when interrupted: children and directories registered
// here are stopped and removed on SIGINT/SIGTERM, and the process exits with 130.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace samizdat::testing {

// Call once at start-up.
void install_cleanup_on_signal();
// Adds/removes a child (pid > 0) and/or a directory (non-empty) to/from that cleanup.
void register_cleanup_target(pid_t pid, const std::filesystem::path& dir);
void unregister_cleanup_target(pid_t pid, const std::filesystem::path& dir);

}  // namespace samizdat::testing
