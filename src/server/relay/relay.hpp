// Relay: what `samizdatd relay` runs — a volunteer hop (like an MTProxy or a Tor bridge)
// between clients who cannot reach the network and the network's servers. It accepts
// clients on any transport with its own key and PSK, and for each client that asks
// (kRelayConnectRequest) opens an anonymous connection to its configured upstream, asks
// for a tunnel (OpenTunnel) and then copies frame payloads both ways. Those payloads are
// the client's inner Noise handshake and sealed frames: the relay can read no message and
// learn no account.
#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "crypto/keys.hpp"
#include "transport/endpoint.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"

namespace samizdat::server {

struct RelayOptions {
  std::vector<transport::Endpoint> listen;                    // the relay's listeners, with its PSK
  std::shared_ptr<const crypto::X25519KeyPair> noise_static;  // the relay's own key
  std::vector<transport::Endpoint> upstream;                  // the network's endpoints, tried in order
  std::chrono::milliseconds timeout{10'000};                  // handshakes, upstream dial, connect request
  std::size_t max_clients = 1024;                             // concurrent clients; more are closed at once
  // tls/wss listeners: PEM certificate chain and key, and the site shown to visitors who
  // are not Samizdat clients (empty: the built-in welcome page). Unused by tcp/obfs.
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_private_key;
  std::filesystem::path cover_site;
  // Sees every payload the relay forwards (both directions); for tests and metrics.
  std::function<void(ByteView)> observe;
};

struct RelayStats {
  std::atomic<std::uint64_t> tunnels{0};  // clients connected upstream
  std::atomic<std::uint64_t> refused{0};  // bad first frame, too many clients, upstream failure
  std::atomic<std::uint64_t> active{0};   // clients being served now
  std::atomic<std::uint64_t> forwarded_bytes{0};
};

class Relay {
 public:
  // Binds every listener and starts one worker thread. Errc::invalid_argument without a
  // key, listener or upstream; Errc::network for a port in use.
  static Result<std::unique_ptr<Relay>> start(RelayOptions options);
  ~Relay();  // stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // The bound endpoints (real ports) with the relay's key and PSK.
  const std::vector<transport::Endpoint>& endpoints() const;
  const RelayStats& stats() const;
  // Blocks until SIGINT or SIGTERM, then stops.
  void wait_for_signal();
  // Stops accepting, closes every client and upstream connection, joins the thread.
  void stop();

  struct Impl;

 private:
  explicit Relay(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace samizdat::server
