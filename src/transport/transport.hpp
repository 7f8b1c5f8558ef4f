// Transport: dial/listen giving authenticated encrypted FrameStreams. Implementations
// (tcp now; obfs, tls, wss later) register by URI scheme in a TransportRegistry.
// Handshakes: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b when the client has a registered
// device key, Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b for anonymous connections.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "crypto/keys.hpp"
#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "util/result.hpp"
#include "wire/padding_policy.hpp"

namespace samizdat::transport {

struct DialOptions {
  // With a key: IKpsk2, the server learns and authenticates this device key.
  // Without: NKpsk2, anonymous (registration, sealed-sender sends).
  std::shared_ptr<const crypto::X25519KeyPair> client_static;
  // Connect + handshake must finish within this time (Errc::timeout).
  std::chrono::milliseconds timeout{10'000};
  // Padding of the frames this side sends (the endpoint's policy; none for plain tcp).
  wire::PaddingPolicy padding;
};

struct ListenOptions {
  std::shared_ptr<const crypto::X25519KeyPair> server_static;  // required
  // Connections that have not completed the handshake by then are closed.
  std::chrono::milliseconds handshake_timeout{10'000};
  // Each accepted connection runs on the executor this returns (e.g. round-robin over
  // one io_context per core). Unset: the listener's own executor.
  std::function<asio::any_io_executor()> pick_executor;
  // Padding of the frames the server sends.
  wire::PaddingPolicy padding;
  // Sealed bytes a stream may queue for a slow reader before send_frame fails.
  std::size_t max_queued_bytes = 1 << 20;
  // tls (and https-based transports): PEM certificate chain and private key, and the
  // directory of static files served to everyone who does not authenticate (empty: a
  // default nginx-like welcome page).
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_private_key;
  std::filesystem::path cover_site;
};

// Counters a listener keeps (relaxed atomics; for tests, logs and metrics).
struct ListenerStats {
  std::atomic<std::uint64_t> accepted{0};  // handshakes completed
  std::atomic<std::uint64_t> rejected{0};  // closed before completing a handshake
};

// Called on the connection's executor with each authenticated stream.
using AcceptHandler = std::function<void(std::unique_ptr<FrameStream>)>;

class Listener {
 public:
  virtual ~Listener() = default;
  // Starts accepting; returns at once. Each connection is handshaken on its own executor.
  virtual void start(AcceptHandler handler) = 0;
  // Stops accepting (connections already handed out are not affected). Idempotent;
  // call from any thread.
  virtual void close() = 0;
  // The bound endpoint (the real port when bound to port 0), with the server key and PSK.
  virtual const Endpoint& local_endpoint() const = 0;
  virtual const ListenerStats& stats() const = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string_view scheme() const = 0;
  // Connects and completes the handshake. Errc::network (refused/reset/closed: a wrong
  // server key or PSK also shows up this way, since the server just closes),
  // Errc::timeout, Errc::auth_failed (a server reply that does not authenticate).
  virtual asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                                     const Endpoint& endpoint,
                                                                     DialOptions options) = 0;
  // Binds endpoint.host:endpoint.port (port 0 picks a free port); endpoint.psk is the PSK
  // clients must know. Errc::network with the OS reason (e.g. "address in use").
  virtual Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                                   ListenOptions options) = 0;
};

// Transports by scheme. default_registry() has every built-in transport registered.
class TransportRegistry {
 public:
  static TransportRegistry& default_registry();
  void add(std::shared_ptr<Transport> transport);
  // Errc::invalid_argument "unknown transport 'x' (known: tcp)" if none.
  Result<std::shared_ptr<Transport>> find(std::string_view scheme) const;

 private:
  std::vector<std::shared_ptr<Transport>> transports_;
};

// Convenience: dial through the default registry by endpoint.scheme.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                           const Endpoint& endpoint, DialOptions options);
// Convenience: listen through the default registry by endpoint.scheme.
Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                         ListenOptions options);

}  // namespace samizdat::transport
