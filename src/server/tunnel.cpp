#include "server/tunnel.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "util/coro.hpp"
#include "util/log.hpp"

namespace samizdat::server {

TunnelService::TunnelService(transport::TunnelServerOptions options, AcceptHandler accept,
                             std::size_t max_handshaking)
    : options_(std::move(options)), accept_(std::move(accept)), max_handshaking_(max_handshaking) {
  options_.replays = &replays_;
}

bool TunnelService::has_room() const {
  return handshaking_.load(std::memory_order_relaxed) < max_handshaking_;
}

void TunnelService::serve(std::unique_ptr<transport::FrameStream> outer) {
  auto executor = outer->get_executor();
  handshaking_.fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(executor, run(shared_from_this(), std::move(outer)), log_escape("tunnel: run"));
}

asio::awaitable<void> TunnelService::run(std::shared_ptr<TunnelService> self,
                                         std::unique_ptr<transport::FrameStream> outer) {
  auto description = outer->peer_description();
  auto inner = co_await transport::server_handshake_in_tunnel(std::move(outer), self->options_);
  self->handshaking_.fetch_sub(1, std::memory_order_relaxed);
  if (!inner.ok()) {
    self->rejected_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("tunnel from relay {} closed before its handshake completed: {}", description,
                  inner.error().describe());
    co_return;
  }
  self->opened_.fetch_add(1, std::memory_order_relaxed);
  self->accept_(std::move(*inner));
}

}  // namespace samizdat::server
