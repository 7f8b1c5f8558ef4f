// Children that tests fork (samizdatd, samizdat, nginx, dnsmasq) must not outlive the test:
// a test that aborts (an assertion, a sanitizer report) skips the destructors that stop
// them, and an orphan that inherited ctest's output pipe keeps ctest waiting until its
// timeout. Every test forks through this.
#pragma once

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

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

}  // namespace samizdat::testing
