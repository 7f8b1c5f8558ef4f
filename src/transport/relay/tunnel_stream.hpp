// A FrameStream carried inside another FrameStream: what a client and the server speak
// through a volunteer relay. The inner connection is a byte stream with exactly the tcp
// transport's format (u16be-length-prefixed Noise messages, then wire::FrameEncoder
// frames); each payload of an outer frame is the next chunk of that byte stream. The
// relay forwards outer payloads unchanged and so sees only the inner ciphertext: it
// holds neither the server's inner session keys nor, for IKpsk2, the device key (Noise
// message 1 encrypts it).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <span>

#include "crypto/keys.hpp"
#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "transport/socket/replay_cache.hpp"
#include "transport/transport.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::transport {

// Client side: runs the inner handshake (IKpsk2 with options.client_static, else NKpsk2)
// against `upstream`'s server key and PSK over `outer`, bounded by options.timeout.
// Errc::network when the tunnel closes (wrong upstream key/PSK looks the same),
// Errc::timeout, Errc::auth_failed for a reply that does not authenticate.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> client_handshake_in_tunnel(
    std::unique_ptr<FrameStream> outer, const Endpoint& upstream, DialOptions options);

struct TunnelServerOptions {
  std::shared_ptr<const crypto::X25519KeyPair> server_static;  // required
  std::vector<Psk> psks;  // the PSKs of the server's endpoints; the client's must be one
  std::chrono::milliseconds handshake_timeout{10'000};
  wire::PaddingPolicy padding;
  ReplayCache* replays = nullptr;  // optional; shared by every tunnel of the server
};

// Server side: reads the inner client hello from `outer`, authenticates it (as the tcp
// listener does) and replies. On any failure the outer stream is closed and nothing is
// sent back, exactly as for junk.
asio::awaitable<Result<std::unique_ptr<FrameStream>>> server_handshake_in_tunnel(
    std::unique_ptr<FrameStream> outer, const TunnelServerOptions& options);

}  // namespace samizdat::transport
