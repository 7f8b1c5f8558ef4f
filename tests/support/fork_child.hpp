// Children that tests fork (samizdatd, samizdat, nginx, dnsmasq) must not outlive the test:
// a test that aborts (an assertion, a sanitizer report) skips the destructors that stop
// them, and an orphan that inherited ctest's output pipe keeps ctest waiting until its
// timeout. Every test forks through this.
#pragma once

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

namespace samizdat::testing {

// fork(), and in the child: SIGKILL when the test process's main thread exits. The kernel
// ties PR_SET_PDEATHSIG to the forking *thread*, so a child forked from a helper thread
// (the crash test's crasher restarts samizdatd from one) would die with that thread: such
// children are left to their owners' destructors. Checking the parent afterwards closes
// the window where the parent died before prctl() ran.
inline pid_t fork_child() {
  const pid_t parent = ::getpid();
  const bool main_thread = ::syscall(SYS_gettid) == parent;
  const pid_t pid = ::fork();
  if (pid == 0 && main_thread) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
  }
  return pid;
}

// An argv built in the parent. After fork() in a multithreaded test the child may only make
// async-signal-safe calls (open, dup2, execv, _exit): another thread may have held the
// allocator's lock at the fork, and a child that allocates then hangs before exec (seen
// under ASan: a restarted samizdatd that never started).
class Argv {
 public:
  explicit Argv(std::vector<std::string> args) : strings_(std::move(args)) {
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
  const char* path() const { return pointers_.front(); }
  char* const* data() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

}  // namespace samizdat::testing
