#include "relay_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "util/bytes.hpp"

namespace samizdat::peers {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

struct Conn {
  int fd = -1;
  bool has_id = false;
  std::uint32_t id = 0;
  std::vector<std::uint8_t> in;
  std::vector<std::uint8_t> out;
  std::size_t out_pos = 0;
  bool polling_out = false;
};

class Relay {
 public:
  explicit Relay(int listener) : listener_(listener) { ep_ = ::epoll_create1(EPOLL_CLOEXEC); }

  int run() {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, listener_, &ev);
    std::vector<epoll_event> events(1024);
    while (!g_stop) {
      int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 200);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(events[i].data.ptr);
        if (c == nullptr) {
          accept_all();
          continue;
        }
        if (events[i].events & (EPOLLERR | EPOLLHUP)) {
          close_conn(c);
          continue;
        }
        if (events[i].events & EPOLLOUT) flush(c);
        if (events[i].events & EPOLLIN) read_from(c);
      }
      for (auto* c : dead_) delete c;
      dead_.clear();
    }
    return 0;
  }

 private:
  void accept_all() {
    for (;;) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto* c = new Conn();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  void close_conn(Conn* c) {
    if (c->fd < 0) return;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    c->fd = -1;
    if (c->has_id) {
      auto it = by_id_.find(c->id);
      if (it != by_id_.end() && it->second == c) by_id_.erase(it);
    }
    dead_.push_back(c);
  }

  void read_from(Conn* c) {
    std::uint8_t buf[65536];
    ssize_t n = ::read(c->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close_conn(c);
      return;
    }
    if (n < 0) return;
    c->in.insert(c->in.end(), buf, buf + n);
    std::size_t pos = 0;
    if (!c->has_id && c->in.size() >= 4) {
      c->id = get_u32_be(c->in.data());
      c->has_id = true;
      by_id_[c->id] = c;
      pos = 4;
    }
    while (c->has_id && c->in.size() - pos >= 8) {
      std::uint32_t len = get_u32_be(c->in.data() + pos);
      if (len < 4 || len > kRelayMaxFrame) {
        close_conn(c);
        return;
      }
      if (c->in.size() - pos < 4 + len) break;
      std::uint32_t dest = get_u32_be(c->in.data() + pos + 4);
      auto it = by_id_.find(dest);
      if (it != by_id_.end()) {
        Conn* d = it->second;
        d->out.insert(d->out.end(), c->in.begin() + static_cast<std::ptrdiff_t>(pos),
                      c->in.begin() + static_cast<std::ptrdiff_t>(pos + 4 + len));
        if (!d->polling_out) flush(d);
      }
      pos += 4 + len;
    }
    c->in.erase(c->in.begin(), c->in.begin() + static_cast<std::ptrdiff_t>(pos));
  }

  void flush(Conn* c) {
    while (c->fd >= 0 && c->out_pos < c->out.size()) {
      ssize_t n = ::write(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos);
      if (n < 0) {
        if (errno == EAGAIN) break;
        if (errno == EINTR) continue;
        close_conn(c);
        return;
      }
      c->out_pos += static_cast<std::size_t>(n);
    }
    if (c->fd < 0) return;
    if (c->out_pos == c->out.size()) {
      c->out.clear();
      c->out_pos = 0;
    }
    bool want = !c->out.empty();
    if (want != c->polling_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
      ev.data.ptr = c;
      ::epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &ev);
      c->polling_out = want;
    }
  }

  int listener_;
  int ep_;
  std::unordered_map<std::uint32_t, Conn*> by_id_;
  std::vector<Conn*> dead_;
};

}  // namespace

int run_relay_server(std::uint16_t port) {
  ::signal(SIGTERM, on_term);
  ::signal(SIGINT, on_term);
  ::signal(SIGPIPE, SIG_IGN);
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 4096) != 0) {
    std::fprintf(stderr, "relay: cannot listen on 127.0.0.1:%u: %s\n", port, std::strerror(errno));
    return 1;
  }
  Relay relay(s);
  return relay.run();
}

}  // namespace samizdat::peers
