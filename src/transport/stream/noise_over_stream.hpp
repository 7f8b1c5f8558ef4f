// The Noise handshake and frame codec of the tcp transport, over any ByteStream, so every
// transport that can produce an ordered byte pipe (tls, wss, relays) reuses them.
// Byte format: exactly the tcp transport's (tcp/noise_handshake.hpp, docs/PROTOCOL.md):
//   client -> server: u16be length || Noise message 1 (IKpsk2 or NKpsk2, PSK proof inside)
//   server -> client: u16be length || Noise message 2
//   then wire::FrameEncoder frames in both directions.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "crypto/keys.hpp"
#include "crypto/noise/handshake.hpp"
#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "transport/replay_cache.hpp"
#include "transport/stream/byte_stream.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"
#include "wire/padding_policy.hpp"

namespace samizdat::transport {

// Client side: sends message 1 for endpoint.server_static/psk (IKpsk2 with
// options.client_static, else NKpsk2), reads message 2, and returns a FrameStream over
// `stream`. The whole handshake is bounded by options.timeout (Errc::timeout). A server
// that closes instead of answering gives Errc::network (wrong key/PSK or interference);
// a reply that does not authenticate gives Errc::auth_failed. On failure the stream is
// closed.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> client_handshake_over(
    std::unique_ptr<ByteStream> stream, const Endpoint& endpoint, const DialOptions& options);

struct ServerHandshakeParams {
  std::shared_ptr<const crypto::X25519KeyPair> server_static;  // required
  Psk psk{};
  ReplayCache* replays = nullptr;  // authenticated message 1s are checked here; may be null
  std::chrono::milliseconds timeout{10'000};
  wire::PaddingPolicy padding;  // of the frames the server sends
  std::size_t max_queued_bytes = 1 << 20;
};

// Server side: reads message 1, authenticates it (IKpsk2, else NKpsk2), rejects replays,
// answers, and returns the FrameStream. Anything else (junk, wrong PSK, replay, timeout)
// returns the error with the stream closed and nothing written to it; callers that need
// a particular close (RST for tcp) should keep that in their ByteStream's close().
asio::awaitable<Result<std::unique_ptr<FrameStream>>> server_handshake_over(
    std::unique_ptr<ByteStream> stream, const ServerHandshakeParams& params);

// A FrameStream over an already-keyed ByteStream (same semantics as TcpFrameStream:
// ordered writes, queue limit, flush, close, padding policy).
std::unique_ptr<FrameStream> make_stream_frame_stream(std::unique_ptr<ByteStream> stream,
                                                      crypto::noise::TransportKeys keys,
                                                      std::optional<crypto::X25519Public> peer_static,
                                                      wire::PaddingPolicy padding,
                                                      std::size_t max_queued_bytes);

}  // namespace samizdat::transport
