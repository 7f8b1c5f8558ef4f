// One session-protocol connection from a client to samizdatd (proto/samizdat/session.proto):
// requests with ids and their replies, plus envelopes the server pushes. Dialled either as
// the registered device (Noise IKpsk2 with the device key) or anonymously (NKpsk2), which
// is how sealed-sender sends and prekey lookups keep the sender's identity from the server.
//
// Single-threaded: every call must run on the executor the connection was made on.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/keys.hpp"
#include "reach/dialer/failure_class.hpp"
#include "reach/dialer/throttle_detector.hpp"
#include "samizdat/session.pb.h"
#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "util/result.hpp"

namespace samizdat::client {

// Largest server message accepted (a batch of envelopes).
inline constexpr std::size_t kMaxServerMessageSize = 8 * 1024 * 1024;

// Liveness checks on a long-lived connection (the default is off: one-shot commands).
struct KeepaliveOptions {
  // Ping when nothing was received for this long; 0 = no keepalive at all.
  std::chrono::milliseconds interval{0};
  // A request or ping unanswered this long, with nothing at all received since it was
  // sent, means the path silently drops: the connection is failed (Errc::timeout).
  std::chrono::milliseconds dead_after{5'000};
  // Goodput probes (a ping padded to probe_bytes) every probe_interval, every
  // suspicious_interval while goodput looks low; probe_bytes 0 = none. A connection the
  // ThrottleDetector calls throttled is failed with a message saying so.
  std::size_t probe_bytes = 0;
  std::chrono::milliseconds probe_interval{30'000};
  std::chrono::milliseconds suspicious_interval{2'000};
  reach::ThrottlePolicy throttle;
};

class ServerConnection {
 public:
  // device_key null: anonymous. Errc::network / timeout / auth_failed as from transport::dial,
  // with a message that names the endpoint.
  static asio::awaitable<Result<std::unique_ptr<ServerConnection>>> connect(
      asio::any_io_executor executor, const transport::Endpoint& endpoint,
      std::shared_ptr<const crypto::X25519KeyPair> device_key, std::chrono::milliseconds timeout);

  // Wraps a stream that is already authenticated (e.g. the winner of reach::race_dial).
  static std::unique_ptr<ServerConnection> adopt(std::unique_ptr<transport::FrameStream> stream,
                                                 const transport::Endpoint& endpoint);

  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // Sends `request` (its request_id is assigned here) and waits for the reply. An
  // ErrorReply becomes an Error of the matching Errc carrying the server's message.
  // Errc::timeout if no reply within `timeout`; Errc::network if the connection drops.
  asio::awaitable<Result<wire::ServerMessage>> call(wire::ClientMessage request,
                                                    std::chrono::milliseconds timeout);

  // Envelopes the server pushed since the last call; waits up to `timeout` for some if
  // none are queued (an empty vector then). Errc::network once the connection is gone.
  asio::awaitable<Result<std::vector<wire::Envelope>>> wait_for_push(std::chrono::milliseconds timeout);

  bool is_open() const;
  void close();

  // Starts the keepalive/watchdog loop (once). It ends when the connection closes.
  void start_keepalive(KeepaliveOptions options);
  const transport::Endpoint& endpoint() const;
  // Why the connection ended (nullopt while open, or when close() ended it).
  std::optional<Error> loss() const;
  // The class of loss(): silent drop, refused/reset, throttled, ...
  reach::FailureClass loss_class() const;
  // The newest map offer the server pushed (in-band map channel), taken once.
  std::optional<wire::MapOffer> take_map_offer();

  struct State;

 private:
  explicit ServerConnection(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace samizdat::client
