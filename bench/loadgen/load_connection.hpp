// LoadConnection: one client connection of the load generator — transport::dial (any
// scheme), or, with a chosen loopback source address (so one machine can open more than
// the ~28K connections one source address allows), the tcp transport's Noise handshake
// done here; then session-protocol requests
// matched to replies by request id, and pushes handed to a callback. Lives on one
// executor; every method must be called there.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

#include "crypto/keys.hpp"
#include "samizdat/session.pb.h"
#include "transport/endpoint.hpp"
#include "transport/frame_stream.hpp"
#include "transport/message_channel.hpp"
#include "util/result.hpp"

namespace samizdat::loadgen {

struct DialSpec {
  transport::Endpoint endpoint;
  std::optional<asio::ip::address> source;                     // bind before connecting (tcp only)
  std::shared_ptr<const crypto::X25519KeyPair> client_static;  // IKpsk2 when set, else NKpsk2
  std::chrono::milliseconds timeout{10'000};
};

class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  using ReplyHandler = std::function<void(Result<wire::ServerMessage>)>;
  using PushHandler = std::function<void(const wire::EnvelopePush&)>;

  // Connects and completes the handshake (Errc::network / timeout / auth_failed).
  static asio::awaitable<Result<std::shared_ptr<LoadConnection>>> open(asio::any_io_executor executor,
                                                                       DialSpec spec);
  ~LoadConnection();

  // Starts the read loop (replies and pushes are dispatched from it).
  void start(PushHandler on_push);
  // Queues a request (its request_id is assigned here); `done` gets the reply, or an error
  // if the connection closes first. ErrorReply answers arrive as Errc errors.
  Status send(wire::ClientMessage& request, ReplyHandler done);
  // send() and wait for the reply.
  asio::awaitable<Result<wire::ServerMessage>> call(wire::ClientMessage request);

  std::size_t outstanding() const { return pending_.size(); }
  bool is_open() const { return stream_ && stream_->is_open(); }
  void close();

 private:
  explicit LoadConnection(std::unique_ptr<transport::FrameStream> stream);
  static asio::awaitable<void> read_loop(std::shared_ptr<LoadConnection> self);
  void fail_all(const Error& error);

  std::unique_ptr<transport::FrameStream> stream_;
  transport::MessageChannel channel_;
  PushHandler on_push_;
  std::unordered_map<std::uint64_t, ReplyHandler> pending_;
  std::uint64_t next_request_id_ = 1;
};

}  // namespace samizdat::loadgen
