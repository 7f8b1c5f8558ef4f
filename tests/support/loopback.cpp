#include "support/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace samizdat::testing {
namespace {

sockaddr_in ipv4(const std::string& host, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  return addr;
}

// Binds a socket of `type` to 127.0.0.1:port (0: any); the bound port, or 0.
std::uint16_t bind_loopback(int type, std::uint16_t port, int& fd) {
  fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  auto addr = ipv4("127.0.0.1", port);
  socklen_t length = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

}  // namespace

bool accepts(const std::string& host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = ipv4(host, port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int tcp = -1, udp = -1;
    const std::uint16_t port = bind_loopback(SOCK_STREAM, 0, tcp);
    const bool udp_free = port != 0 && bind_loopback(SOCK_DGRAM, port, udp) == port;
    ::close(tcp);
    if (udp >= 0) ::close(udp);
    if (udp_free) return port;
  }
  return 0;
}

bool wait_until_accepts(const std::string& host, std::uint16_t port, std::chrono::milliseconds within,
                        const std::function<bool()>& still_starting) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!accepts(host, port)) {
    if (still_starting && !still_starting()) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace samizdat::testing
