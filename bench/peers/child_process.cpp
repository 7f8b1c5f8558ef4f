#include "child_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "../loadgen/server_process.hpp"

namespace samizdat::peers {
namespace fs = std::filesystem;

Status ChildProcess::start(const std::vector<std::string>& args, const fs::path& log) {
  if (args.empty() || !fs::exists(args[0])) {
    return make_error(Errc::not_found, (args.empty() ? std::string("(nothing)") : args[0]) +
                                           " not found: install the peer servers (scripts/install-deps)");
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(Errc::io, "fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (FILE* out = std::fopen(log.c_str(), "a")) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  loadgen::register_cleanup_target(pid, {});
  return {};
}

bool ChildProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    loadgen::unregister_cleanup_target(pid_, {});
    pid_ = -1;
    return false;
  }
  return true;
}

void ChildProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 1000; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      loadgen::unregister_cleanup_target(pid_, {});
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  loadgen::unregister_cleanup_target(pid_, {});
  pid_ = -1;
}

Result<std::uint16_t> free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return make_error(Errc::io, "socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(s);
    return make_error(Errc::io, "cannot bind a loopback port");
  }
  ::close(s);
  return ntohs(a.sin_port);
}

Status wait_for_port(ChildProcess& child, std::uint16_t port, std::chrono::milliseconds timeout,
                     const fs::path& log) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (!child.alive()) {
      return make_error(Errc::unavailable, "the server exited at start-up; its log " + log.string() +
                                               " says:\n" + read_text(log));
    }
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    if (ok) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return make_error(Errc::timeout, "the server did not accept on 127.0.0.1:" + std::to_string(port) +
                                       " in time; log " + log.string() + ":\n" + read_text(log));
}

Result<fs::path> make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) return make_error(Errc::io, "cannot create a temp directory");
  loadgen::register_cleanup_target(-1, pattern);
  return fs::path(pattern);
}

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) return make_error(Errc::io, "cannot write " + path.string());
  return {};
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace samizdat::peers
