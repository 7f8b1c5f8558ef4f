// A real program (dnsmasq, nginx) started by a test as a child, stopped (SIGTERM, then
// SIGKILL) when the object goes away, so no test leaves a server behind.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/fork_child.hpp"

namespace samizdat::reach::testing {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    const samizdat::testing::Argv args(argv);
    pid_ = samizdat::testing::fork_child();
    if (pid_ == 0) {
      execv(args.path(), args.data());
      _exit(127);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A port that is free for both TCP and UDP on 127.0.0.1 right now (the child binds it next).
inline std::uint16_t free_port() {
  asio::io_context io;
  for (int attempt = 0; attempt < 50; ++attempt) {
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto port = acceptor.local_endpoint().port();
    asio::error_code ec;
    asio::ip::udp::socket udp(io);
    udp.open(asio::ip::udp::v4());
    udp.bind(asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) return port;
  }
  return 0;
}

}  // namespace samizdat::reach::testing
