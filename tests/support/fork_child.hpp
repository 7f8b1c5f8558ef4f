// Children that tests fork (samizdatd, samizdat, nginx, dnsmasq) must not outlive the test:
// a test that aborts (an assertion, a sanitizer report) skips the destructors that stop
// them, and an orphan that inherited ctest's output pipe keeps ctest waiting until its
// timeout. Every test forks through this.
#pragma once

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

namespace samizdat::testing {

// fork(), and in the child: SIGKILL when the forking thread exits. Checking the parent
// afterwards closes the window where the parent died before prctl() ran.
inline pid_t fork_child() {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
  }
  return pid;
}

}  // namespace samizdat::testing
