// Session: one client connection on the server — reads ClientMessages from the
// transport, runs them through SessionHandler, writes replies, receives pushes from the
// Router while the device is online. Lives on the connection's executor.
#pragma once

#include <asio/awaitable.hpp>
#include <memory>

#include "server/router.hpp"
#include "server/session_handler.hpp"
#include "server/token_bucket.hpp"
#include "transport/frame_stream.hpp"
#include "transport/message_channel.hpp"

namespace samizdat::server {

class Session final : public PushTarget, public std::enable_shared_from_this<Session> {
 public:
  Session(ServiceContext& context, std::unique_ptr<transport::FrameStream> stream);
  ~Session() override;

  // Serves until the peer closes, sends garbage, or close() is called.
  asio::awaitable<void> run();
  void close();
  void push(std::shared_ptr<const wire::Envelope> envelope) override;

 private:
  void send(const wire::ServerMessage& message);

  ServiceContext& context_;
  std::unique_ptr<transport::FrameStream> stream_;
  transport::MessageChannel channel_;
  SessionHandler handler_;
  TokenBucket bucket_;
  std::optional<store::MailboxId> routed_mailbox_;
  std::uint32_t rate_strikes_ = 0;
  bool map_offered_ = false;  // the in-band map offer goes out once per session
};

}  // namespace samizdat::server
