#include "support/interrupt_cleanup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace samizdat::testing {
namespace {

// The signal handler only wakes cleanup_on_signal() through a pipe: the cleanup (waitpid
// with sleeps, remove_all) allocates, which is not async-signal-safe (TSan reported it), so
// it runs on its own thread under the lock.
std::mutex g_mutex;
std::vector<pid_t> g_children;
std::vector<std::filesystem::path> g_dirs;
int g_signal_pipe[2] = {-1, -1};

void handle_signal(int signal_number) {
  // write() is async-signal-safe; everything else happens in cleanup_on_signal().
  const char byte = static_cast<char>(signal_number);
  [[maybe_unused]] auto written = ::write(g_signal_pipe[1], &byte, 1);
}

// Best effort, then exit: the children get SIGTERM (they also have a parent-death signal).
void cleanup_on_signal() {
  char byte = 0;
  while (::read(g_signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(g_mutex);
  for (pid_t pid : g_children) ::kill(pid, SIGTERM);
  for (pid_t pid : g_children) {
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) != 0) break;
      ::usleep(50'000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  for (const auto& dir : g_dirs) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  ::_exit(130);
}

}  // namespace

void register_cleanup_target(pid_t pid, const std::filesystem::path& dir) {
  std::lock_guard lock(g_mutex);
  if (pid > 0) g_children.push_back(pid);
  if (!dir.empty()) g_dirs.push_back(dir);
}

void unregister_cleanup_target(pid_t pid, const std::filesystem::path& dir) {
  std::lock_guard lock(g_mutex);
  std::erase(g_children, pid);
  std::erase(g_dirs, dir);
}

void install_cleanup_on_signal() {
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::thread(cleanup_on_signal).detach();
  struct sigaction action {};
  action.sa_handler = handle_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace samizdat::testing
