// Set-up helper for the peers' clients: poll one client's socket and feed it until a
// condition holds (connection acknowledged, subscription confirmed) or time runs out.
#pragma once

#include <poll.h>

#include <chrono>
#include <string>

#include "peer.hpp"

namespace samizdat::peers {

template <class Done>
Status pump_until(PeerClient& client, Done done, const std::string& what,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (!client.is_open()) return make_error(Errc::network, "connection closed while waiting for " + what);
    if (std::chrono::steady_clock::now() >= end) return make_error(Errc::timeout, "no " + what + " in time");
    pollfd p{client.fd(), static_cast<short>(POLLIN | (client.wants_write() ? POLLOUT : 0)), 0};
    int n = ::poll(&p, 1, 20);
    if (n > 0 && (p.revents & POLLOUT)) client.handle_write();
    if (n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP))) client.handle_read();
  }
  return {};
}

}  // namespace samizdat::peers
