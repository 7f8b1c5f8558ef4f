// Test helper: the active probes a censor sends to a suspected server (issue #4: random
// bytes of 1..16,384, the GFW's 7-50 and 221-byte random probes, replays and byte-changed
// replays of real handshakes, an HTTP request, a TLS ClientHello) and an observer that
// records what a listener does with each: the bytes it sends back, how the connection
// ends (FIN, RST, still open) and when. Blocking POSIX sockets on their own threads, so
// any transport's test can use it against any listener on 127.0.0.1.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "crypto/secret.hpp"
#include "util/bytes.hpp"

namespace samizdat::testing {

struct Probe {
  std::string kind;  // "random-221", "http", "replay", ...
  Bytes first;       // written right after connecting
  Bytes second;      // written as a separate write after `first` (may be empty)
};

enum class ProbeEnd { fin, rst, open, refused };

inline const char* to_string(ProbeEnd end) {
  switch (end) {
    case ProbeEnd::fin:
      return "FIN";
    case ProbeEnd::rst:
      return "RST";
    case ProbeEnd::open:
      return "still open";
    case ProbeEnd::refused:
      return "refused";
  }
  return "?";
}

struct ProbeObservation {
  std::string kind;
  std::size_t sent = 0;
  std::size_t received = 0;  // bytes the listener sent back
  ProbeEnd end = ProbeEnd::open;
  double seconds = 0;  // from connect to the end (or to the observation limit)
};

inline Bytes random_probe(std::size_t size) { return crypto::random_bytes(size); }

inline Bytes http_probe(std::string_view host = "example.com") {
  return to_bytes("GET / HTTP/1.1\r\nHost: " + std::string(host) +
                  "\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n");
}

// A TLS 1.2-record ClientHello offering TLS 1.3 with an SNI, like a browser's first packet.
inline Bytes tls_client_hello_probe(std::string_view sni = "www.example.com") {
  Bytes ext;
  auto u16 = [](Bytes& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  };
  // server_name
  u16(ext, 0x0000);
  u16(ext, sni.size() + 5);
  u16(ext, sni.size() + 3);
  ext.push_back(0);
  u16(ext, sni.size());
  append(ext, as_bytes(sni));
  // supported_versions: TLS 1.3, 1.2
  for (std::uint8_t b : {0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03}) ext.push_back(b);
  // supported_groups: x25519, secp256r1
  for (std::uint8_t b : {0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17}) ext.push_back(b);
  // key_share: x25519 with a random key
  for (std::uint8_t b : {0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20}) ext.push_back(b);
  append(ext, crypto::random_bytes(32));
  Bytes hello;
  u16(hello, 0x0303);
  append(hello, crypto::random_bytes(32));  // random
  hello.push_back(32);
  append(hello, crypto::random_bytes(32));  // legacy session id
  for (std::uint8_t b : {0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0x01, 0x00}) hello.push_back(b);
  u16(hello, ext.size());
  append(hello, ext);
  Bytes handshake{0x01, 0, static_cast<std::uint8_t>(hello.size() >> 8),
                  static_cast<std::uint8_t>(hello.size())};
  append(handshake, hello);
  Bytes record{0x16, 0x03, 0x01};
  u16(record, handshake.size());
  append(record, handshake);
  return record;
}

// Flips one bit of a recorded packet at `position` (clamped).
inline Bytes change_one_byte(Bytes packet, std::size_t position = 0) {
  if (!packet.empty()) packet[std::min(position, packet.size() - 1)] ^= 0x40;
  return packet;
}

// The probes that need nothing recorded: random lengths from 1 to 16,384 (including the
// GFW's 7-50 and 221), HTTP and a TLS ClientHello.
inline std::vector<Probe> standard_probes() {
  std::vector<Probe> probes;
  for (std::size_t size : {1, 7, 8, 11, 16, 22, 33, 40, 49, 50, 221, 1000, 4096, 16384}) {
    probes.push_back({"random-" + std::to_string(size), random_probe(size), {}});
  }
  auto any = 1 + crypto::random_uniform(16384);
  probes.push_back({"random-" + std::to_string(any), random_probe(any), {}});
  probes.push_back({"http", http_probe(), {}});
  probes.push_back({"tls", tls_client_hello_probe(), {}});
  return probes;
}

// Connects to 127.0.0.1:port, writes the probe, then watches until the listener closes or
// `limit` passes. Never throws; a failed connect is ProbeEnd::refused.
inline ProbeObservation observe_probe(std::uint16_t port, const Probe& probe,
                                      std::chrono::milliseconds limit) {
  using clock = std::chrono::steady_clock;
  ProbeObservation seen;
  seen.kind = probe.kind;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto start = clock::now();
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (fd >= 0) ::close(fd);
    seen.end = ProbeEnd::refused;
    return seen;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto write_all = [&](const Bytes& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      auto n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
      seen.sent += static_cast<std::size_t>(n);
    }
  };
  write_all(probe.first);
  if (!probe.second.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a separate segment
    write_all(probe.second);
  }
  std::uint8_t buffer[4096];
  for (;;) {
    auto left = limit - std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      seen.received += static_cast<std::size_t>(n);
      continue;
    }
    seen.end = n == 0 ? ProbeEnd::fin : (errno == ECONNRESET ? ProbeEnd::rst : ProbeEnd::fin);
    break;
  }
  seen.seconds = std::chrono::duration<double>(clock::now() - start).count();
  ::close(fd);
  return seen;
}

// Runs every probe at once (each on its own thread and connection).
inline std::vector<ProbeObservation> observe_probes(std::uint16_t port, const std::vector<Probe>& probes,
                                                    std::chrono::milliseconds limit) {
  std::vector<std::future<ProbeObservation>> running;
  for (const auto& probe : probes) {
    running.push_back(
        std::async(std::launch::async, [&probe, port, limit] { return observe_probe(port, probe, limit); }));
  }
  std::vector<ProbeObservation> seen;
  for (auto& r : running) seen.push_back(r.get());
  return seen;
}

}  // namespace samizdat::testing
