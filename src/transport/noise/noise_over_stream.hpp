// The Noise handshake of noise_handshake.hpp over any ByteStream, then the sealed frame
// stream, so every transport that can produce an ordered byte pipe (tcp, tls, wss) shares
// them. Byte format: exactly the tcp transport's (docs/PROTOCOL.md "Transport"):
//   client -> server: u16be length || Noise message 1 (IKpsk2 or NKpsk2, PSK proof inside)
//   server -> client: u16be length || Noise message 2
//   then wire::FrameEncoder frames in both directions.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "crypto/keys.hpp"
#include "transport/deadline.hpp"
#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "transport/noise/noise_handshake.hpp"
#include "transport/socket/replay_cache.hpp"
#include "transport/socket/socket_listener.hpp"
#include "transport/stream/byte_stream.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"
#include "wire/padding_policy.hpp"

namespace samizdat::transport {

// Client side: sends message 1 for endpoint.server_static/psk (IKpsk2 with
// options.client_static, else NKpsk2), reads message 2, and returns a FrameStream over
// `stream` (padding: options.padding). The handshake must finish by `deadline`
// (Errc::timeout). A server that closes instead of answering gives Errc::network (wrong
// key/PSK or interference); a reply that does not authenticate gives Errc::auth_failed.
// On failure the stream is closed.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> client_handshake_over(
    std::unique_ptr<ByteStream> stream, const Endpoint& endpoint, const DialOptions& options,
    DeadlineClock::time_point deadline);

struct ServerHandshakeParams {
  std::shared_ptr<const crypto::X25519KeyPair> server_static;  // required
  Psk psk{};
  ReplayCache* replays = nullptr;  // authenticated message 1s are checked here; may be null
  std::chrono::milliseconds timeout{10'000};
  wire::PaddingPolicy padding;  // of the frames the server sends
  std::size_t max_queued_bytes = 1 << 20;
};

// A listener's parameters for its connections: its key, PSK, replay cache, handshake
// timeout, padding and queue limit.
ServerHandshakeParams handshake_params_of(ListenerState& listener);

// Server side, up to the keys: reads message 1, authenticates it (IKpsk2, else NKpsk2),
// rejects replays and sends the reply. Nothing is written unless message 1 authenticates,
// and the stream is left as it is on failure, so the caller closes it as its transport
// must (a RST for tcp). No time limit of its own: the caller's Deadline bounds it.
asio::awaitable<Result<ServerHandshakeResult>> answer_client_hello(ByteStream& stream,
                                                                   const ServerHandshakeParams& params);

// Server side, whole: answer_client_hello within params.timeout, then the FrameStream.
// Anything else (junk, wrong PSK, replay, timeout) returns the error with the stream closed
// and nothing written to it.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> server_handshake_over(
    std::unique_ptr<ByteStream> stream, const ServerHandshakeParams& params);

// The end of a listener's connection once its bytes are ours (after a TLS session or a
// WebSocket upgrade): server_handshake_over with handshake_params_of(listener), then
// listener.accept or listener.reject (`peer` names the connection in the log).
asio::awaitable<void> accept_over(ListenerState& listener, std::unique_ptr<ByteStream> stream,
                                  std::string peer);

// The error a server-side handshake step reports: Errc::timeout when its deadline fired.
Error server_handshake_error(const Deadline& deadline, Error error);

}  // namespace samizdat::transport
