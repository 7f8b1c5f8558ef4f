#include "censor/sys/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "util/log.hpp"

extern char** environ;

namespace samizdat::censor {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_argv(const Argv& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& arg : argv) out.push_back(const_cast<char*>(arg.c_str()));
  out.push_back(nullptr);
  return out;
}

Argv with_netns(const Argv& argv, const std::optional<std::string>& netns) {
  return netns ? in_netns(*netns, argv) : argv;
}

// fork + setpgid + exec with the given fds as stdin/stdout/stderr.
Result<int> spawn(const Argv& argv, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group so a deadline or teardown kills the whole tree.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  auto args = c_argv(argv);
  int pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_error(Errc::io, "cannot start '" + argv[0] + "': " + std::strerror(rc) +
                                    " (is it installed? run scripts/install-deps)");
  }
  return pid;
}

void kill_group(int pid, int signo) {
  if (pid > 0) ::kill(-pid, signo);
}

}  // namespace

Argv shell(const std::string& line) { return {"sh", "-c", line}; }

Argv in_netns(const std::string& netns, const Argv& argv) {
  Argv out{"ip", "netns", "exec", netns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string join_argv(const Argv& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !arg.empty() && arg.find_first_of(" \t\"'{};|&$") == std::string::npos;
    out += plain ? arg : "'" + arg + "'";
  }
  return out;
}

Result<CommandOutput> run(const Argv& plain_argv, const RunOptions& options) {
  if (plain_argv.empty()) return make_error(Errc::invalid_argument, "empty command");
  const Argv argv = with_netns(plain_argv, options.netns);
  spdlog::debug("run: {}", join_argv(argv));
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return make_error(Errc::io, std::string("pipe failed: ") + std::strerror(errno));
  }
  auto pid_result = spawn(argv, in_pipe[0], out_pipe[1], err_pipe[1]);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (!pid_result) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return std::move(pid_result).error();
  }
  const int pid = *pid_result;
  // Small inputs only (nft scripts); larger ones would need a poll-driven writer.
  if (!options.stdin_data.empty()) {
    signal(SIGPIPE, SIG_IGN);
    const char* data = options.stdin_data.data();
    size_t left = options.stdin_data.size();
    while (left > 0) {
      ssize_t n = ::write(in_pipe[1], data, left);
      if (n <= 0) break;
      data += n;
      left -= static_cast<size_t>(n);
    }
  }
  ::close(in_pipe[1]);

  CommandOutput result;
  const auto start = Clock::now();
  const auto deadline = start + options.timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[8192];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      kill_group(pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 200)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  int status = 0;
  if (result.timed_out) kill_group(pid, SIGKILL);
  // The group leader may linger briefly after closing its pipes; a deadline bounds the wait.
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  result.exit_code = (!result.timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  // Children of the command that kept running (a stray background job) die with the group.
  kill_group(pid, SIGKILL);
  spdlog::debug("run: exit={} timed_out={} in {} ms", result.exit_code, result.timed_out,
                result.elapsed.count());
  return result;
}

Result<CommandOutput> run_checked(const Argv& argv, const RunOptions& options) {
  auto output = SZ_TRY(run(argv, options));
  if (output.timed_out) {
    return make_error(Errc::timeout, "'" + join_argv(argv) + "' did not finish within " +
                                         std::to_string(options.timeout.count()) + " ms");
  }
  if (output.exit_code != 0) {
    std::string err = output.err.empty() ? output.out : output.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return make_error(Errc::io, "'" + join_argv(argv) + "'" +
                                    (options.netns ? " in netns " + *options.netns : std::string()) +
                                    " failed (exit " + std::to_string(output.exit_code) + "): " + err);
  }
  return output;
}

Result<BackgroundProcess> BackgroundProcess::start(const Argv& plain_argv, const std::string& log_path,
                                                   const std::optional<std::string>& netns) {
  if (plain_argv.empty()) return make_error(Errc::invalid_argument, "empty command");
  const Argv argv = with_netns(plain_argv, netns);
  spdlog::debug("start: {} (log {})", join_argv(argv), log_path.empty() ? "/dev/null" : log_path);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int log_fd =
      log_path.empty() ? null_fd : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (null_fd < 0 || log_fd < 0) {
    if (null_fd >= 0) ::close(null_fd);
    return make_error(Errc::io, "cannot open log file " + log_path + ": " + std::strerror(errno));
  }
  auto pid = spawn(argv, null_fd, log_fd, log_fd);
  if (log_fd != null_fd) ::close(log_fd);
  ::close(null_fd);
  if (!pid) return std::move(pid).error();
  BackgroundProcess process;
  process.pid_ = *pid;
  process.description_ = join_argv(argv);
  return process;
}

BackgroundProcess::BackgroundProcess(BackgroundProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), description_(std::move(other.description_)) {}

BackgroundProcess& BackgroundProcess::operator=(BackgroundProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    description_ = std::move(other.description_);
  }
  return *this;
}

BackgroundProcess::~BackgroundProcess() { stop(); }

bool BackgroundProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  int rc = ::waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    kill_group(pid_, SIGKILL);  // reap stragglers of the group
    pid_ = -1;
    return false;
  }
  return true;
}

void BackgroundProcess::signal(int signo) const {
  if (pid_ > 0) ::kill(pid_, signo);
}

void BackgroundProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  spdlog::debug("stop: pid {} ({})", pid_, description_);
  kill_group(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      kill_group(pid_, SIGKILL);
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_group(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace samizdat::censor
