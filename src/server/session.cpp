#include "server/session.hpp"

#include "server/map_push.hpp"
#include "server/tunnel.hpp"
#include "util/log.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::server {

Session::Session(ServiceContext& context, std::unique_ptr<transport::FrameStream> stream)
    : context_(context),
      stream_(std::move(stream)),
      channel_(*stream_, context.limits.max_message_bytes),
      handler_(context, stream_->get_executor(), stream_->peer_static(),
               [this](const wire::ServerMessage& message) { send(message); }),
      bucket_(context.limits.requests_per_second, context.limits.request_burst) {}

Session::~Session() {
  if (routed_mailbox_) context_.router.remove(*routed_mailbox_, this);
}

void Session::close() {
  if (stream_) stream_->close();
}

void Session::send(const wire::ServerMessage& message) {
  if (!stream_ || !stream_->is_open()) return;
  auto status = channel_.send_message(wire::serialize_message(message));
  if (!status.ok()) {
    spdlog::info("closing connection from {}: {}", stream_->peer_description(), status.error().describe());
    stream_->close();
  }
}

void Session::push(std::shared_ptr<const wire::Envelope> envelope) {
  wire::ServerMessage message;
  *message.mutable_envelope_push()->add_envelopes() = *envelope;
  send(message);
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  // An authenticated, registered device is online: pushes reach it from now on.
  if (const auto* device = handler_.device()) {
    routed_mailbox_ = device->mailbox;
    context_.router.add(device->mailbox, stream_->get_executor(), weak_from_this());
  }
  while (stream_->is_open()) {
    auto message = co_await channel_.read_message();
    if (!message.ok()) {
      const auto& error = message.error();
      if (error.code == Errc::network || error.code == Errc::unavailable) {
        spdlog::debug("connection from {} ended: {}", stream_->peer_description(), error.describe());
      } else {
        // Garbage, a forged or truncated frame, an oversized message: this connection only.
        spdlog::info("closing connection from {}: {}", stream_->peer_description(), error.describe());
      }
      break;
    }
    if (!bucket_.try_take()) {
      wire::ClientMessage request;  // only for its id, so the client can match the refusal
      request.ParseFromArray(message->data(), static_cast<int>(message->size()));
      handler_.refuse(request.request_id(), Errc::limit_exceeded, "too many requests: slow down and retry");
      if (++rate_strikes_ >= context_.limits.rate_strikes_before_close) {
        spdlog::info("closing connection from {}: kept exceeding the request rate",
                     stream_->peer_description());
        break;
      }
      continue;
    }
    auto status = co_await handler_.handle(*message);
    if (!status.ok()) {
      spdlog::info("closing connection from {}: {}", stream_->peer_description(), status.error().describe());
      // Let the error reply out first; the connection closes whether or not it gets out.
      auto flushed = co_await stream_->flush();
      if (!flushed.ok()) spdlog::debug("error reply not sent: {}", flushed.error().describe());
      break;
    }
    if (handler_.tunnel_requested()) {  // a relay: the connection becomes a tunnel
      auto flushed = co_await stream_->flush();
      if (!flushed.ok()) break;  // the OpenTunnel reply could not be sent: nothing to serve
      context_.tunnels->serve(std::move(stream_));
      co_return;
    }
    // After the first reply (so a relay's OpenTunnel exchange is never disturbed): tell
    // the client which network map this server has (channel 1, reach/channels/inband_map.hpp).
    if (!map_offered_) {
      map_offered_ = true;
      if (auto offer = map_offer_push(context_.published_map)) send(*offer);
    }
    // A device that registered on another connection and then reconnected is found on
    // its first request; route it from then on.
    if (!routed_mailbox_) {
      if (const auto* device = handler_.device()) {
        routed_mailbox_ = device->mailbox;
        context_.router.add(device->mailbox, stream_->get_executor(), weak_from_this());
      }
    }
  }
  stream_->close();
}

}  // namespace samizdat::server
