// TunnelService: the server end of relay tunnels. A relay opens an anonymous session
// and sends OpenTunnel; after the reply the connection is handed here, the inner
// handshake runs over it (transport/relay/tunnel_stream.hpp) and the resulting stream
// joins the ordinary accept path, so IKpsk2 devices and NKpsk2 clients work through a
// relay exactly as directly. Limits: one tunnel per relay connection, so a relay is one
// anonymous connection per client for every session limit; tunnels still in their
// handshake are capped server-wide (OpenTunnel is refused beyond that).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "transport/frame_stream.hpp"
#include "transport/relay/tunnel_stream.hpp"
#include "transport/socket/replay_cache.hpp"

namespace samizdat::server {

class TunnelService : public std::enable_shared_from_this<TunnelService> {
 public:
  using AcceptHandler = std::function<void(std::unique_ptr<transport::FrameStream>)>;

  TunnelService(transport::TunnelServerOptions options, AcceptHandler accept,
                std::size_t max_handshaking = 1024);

  // False when too many tunnels are in their handshake (refuse OpenTunnel then).
  bool has_room() const;
  // Takes over `outer` (whose OpenTunnel was just answered) on its own executor.
  void serve(std::unique_ptr<transport::FrameStream> outer);

  std::uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  static asio::awaitable<void> run(std::shared_ptr<TunnelService> self,
                                   std::unique_ptr<transport::FrameStream> outer);

  transport::TunnelServerOptions options_;
  transport::ReplayCache replays_;
  AcceptHandler accept_;
  std::size_t max_handshaking_;
  std::atomic<std::size_t> handshaking_{0};
  std::atomic<std::uint64_t> opened_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace samizdat::server
