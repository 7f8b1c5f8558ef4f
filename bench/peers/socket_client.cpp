#include "socket_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace samizdat::peers {

Result<int> connect_loopback(std::uint16_t port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return make_error(Errc::io, std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int e = errno;
    ::close(s);
    return make_error(Errc::network, "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(e));
  }
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK);
  return s;
}

bool WriteBuffer::flush(int fd) {
  while (pos_ < data_.size()) {
    ssize_t n = ::write(fd, data_.data() + pos_, data_.size() - pos_);
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      return false;
    }
    pos_ += static_cast<std::size_t>(n);
  }
  if (pos_ == data_.size()) {
    data_.clear();
    pos_ = 0;
  }
  return true;
}

}  // namespace samizdat::peers
