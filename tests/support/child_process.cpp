#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <thread>
#include <utility>

#include "support/interrupt_cleanup.hpp"

namespace samizdat::testing {

pid_t fork_child() {
  const pid_t parent = ::getpid();
  const bool main_thread = ::syscall(SYS_gettid) == parent;
  const pid_t pid = ::fork();
  if (pid == 0 && main_thread) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
  }
  return pid;
}

Argv::Argv(std::vector<std::string> args) : strings_(std::move(args)) {
  for (auto& s : strings_) pointers_.push_back(s.data());
  pointers_.push_back(nullptr);
}

namespace {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<ChildProcess> ChildProcess::start(std::vector<std::string> argv, ChildOptions options) {
  if (argv.empty() || !std::filesystem::exists(argv[0])) {
    return make_error(Errc::not_found, (argv.empty() ? std::string("(no program)") : argv[0]) + " not found");
  }
  // Everything the child needs is built here: it may only make async-signal-safe calls.
  const Argv args(std::move(argv));
  const std::string output = options.output.string();
  const rlimit open_files{options.max_open_files, options.max_open_files};
  ChildProcess child;
  child.options_ = options;
  child.pid_ = fork_child();
  if (child.pid_ < 0) return make_error(Errc::io, "fork failed");
  if (child.pid_ == 0) {
    if (options.max_open_files > 0) ::setrlimit(RLIMIT_NOFILE, &open_files);
    if (!output.empty()) {
      const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (options.stdin_fd >= 0) ::dup2(options.stdin_fd, 0);
    if (options.stdout_fd >= 0) ::dup2(options.stdout_fd, 1);
    if (options.stderr_fd >= 0) ::dup2(options.stderr_fd, 2);
    ::execv(args.path(), args.data());
    ::_exit(127);
  }
  if (options.clean_up_on_interrupt) register_cleanup_target(child.pid_, {});
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_), options_(other.options_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    end();
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
    options_ = other.options_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { end(); }

void ChildProcess::end() {
  if (pid_ <= 0) return;
  if (options_.stop_when_destroyed) {
    stop();
  } else {
    kill();
  }
}

void ChildProcess::reaped(int status) {
  if (options_.clean_up_on_interrupt) unregister_cleanup_target(pid_, {});
  pid_ = -1;
  status_ = status;
}

int ChildProcess::exit_code() const { return status_ < 0 ? -1 : exit_code_of(status_); }

bool ChildProcess::exited() const { return status_ >= 0 && WIFEXITED(status_); }

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped(status);
    return false;
  }
  return true;
}

int ChildProcess::stop(int signal) {
  if (pid_ <= 0) return exit_code();
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reaped(status);
  return exit_code();
}

bool ChildProcess::kill() {
  if (pid_ <= 0) return false;
  const bool signalled = ::kill(pid_, SIGKILL) == 0;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped(status);
  return signalled;
}

ChildProcess start_helper_server(std::vector<std::string> argv) {
  ChildOptions options;
  options.stop_grace = std::chrono::seconds(2);
  options.stop_when_destroyed = true;
  auto started = ChildProcess::start(std::move(argv), options);
  return started.ok() ? std::move(*started) : ChildProcess();
}

std::vector<nlohmann::json> ProcessResult::json_lines() const {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

ProcessResult run_to_completion(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                const std::string& input) {
  ProcessResult result;
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(in_pipe, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  ChildOptions options;
  options.stdin_fd = in_pipe[0];
  options.stdout_fd = out_pipe[1];
  options.stderr_fd = err_pipe[1];
  auto child = ChildProcess::start(argv, options);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(in_pipe[0]);
  if (child.ok() && !input.empty()) (void)!::write(in_pipe[1], input.data(), input.size());
  ::close(in_pipe[1]);
  if (!child.ok()) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = child.error().describe();
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[4096];
  while (open_fds > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0) break;
    for (auto& fd : fds) {
      if (fd.fd < 0 || fd.revents == 0) continue;
      ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(fd.fd);
        fd.fd = -1;
        --open_fds;
        continue;
      }
      (fd.fd == out_pipe[0] ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (result.timed_out) {
    child->kill();
    return result;
  }
  // Both pipes closed: it exited (or closed them and keeps running until the deadline).
  while (child->running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (child->running()) {
    result.timed_out = true;
    child->kill();
    return result;
  }
  result.exit_code = child->exited() ? child->exit_code() : -1;
  return result;
}

}  // namespace samizdat::testing
