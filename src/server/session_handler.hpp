// SessionHandler: the session protocol (proto/samizdat/session.proto) for one
// connection, without the network: it parses each ClientMessage, checks who may do
// what, calls storage and emits ServerMessages to a sink. Runs on one executor.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/keys.hpp"
#include "samizdat/session.pb.h"
#include "server/service_context.hpp"
#include "util/result.hpp"

namespace samizdat::server {

class SessionHandler {
 public:
  using ReplySink = std::function<void(const wire::ServerMessage&)>;

  // peer_static: the device key the transport authenticated (IKpsk2), none if anonymous.
  SessionHandler(ServiceContext& context, asio::any_io_executor executor,
                 std::optional<crypto::X25519Public> peer_static, ReplySink sink);

  // Handles one serialized ClientMessage, emitting exactly one reply for it. Returns an
  // error only when the connection must close (bytes that are not a ClientMessage).
  asio::awaitable<Status> handle(ByteView message);

  // The registered device behind this connection, if it is authenticated and registered
  // (looked up on first need, and again while not found: it may register meanwhile).
  const store::DeviceRecord* device();
  const std::optional<crypto::X25519Public>& peer_static() const { return peer_static_; }

  // Reply to a request refused before handling (e.g. rate limit).
  void refuse(std::uint64_t request_id, Errc code, std::string message);

  // OpenTunnel was answered: the session must hand its stream to context.tunnels.
  bool tunnel_requested() const { return tunnel_requested_; }

 private:
  asio::awaitable<Result<wire::ServerMessage>> dispatch(const wire::ClientMessage& request);
  asio::awaitable<Result<wire::ServerMessage>> register_device(const wire::RegisterDevice& request);
  asio::awaitable<Result<wire::ServerMessage>> upload_prekeys(const wire::UploadPrekeys& request);
  asio::awaitable<Result<wire::ServerMessage>> fetch_prekey_bundle(const wire::FetchPrekeyBundle& request);
  Result<wire::ServerMessage> sender_certificate();
  asio::awaitable<Result<wire::ServerMessage>> send_envelopes(const wire::SendEnvelopes& request);
  Result<wire::ServerMessage> fetch_envelopes(const wire::FetchEnvelopes& request);
  asio::awaitable<Result<wire::ServerMessage>> ack_envelopes(const wire::AckEnvelopes& request);
  Result<const store::DeviceRecord*> require_device();

  struct PrekeyUpload {
    store::MailboxId mailbox{};
    std::optional<store::SignedPrekey> signed_prekey;
    std::vector<store::OneTimePrekey> one_time;
  };
  Result<store::DeviceRecord> parse_registration(const wire::RegisterDevice& request);
  Result<PrekeyUpload> parse_prekey_upload(const wire::UploadPrekeys& request);
  Result<store::MailboxId> bundle_target(const wire::FetchPrekeyBundle& request);
  Result<std::vector<store::NewEnvelope>> parse_send(const wire::SendEnvelopes& request);
  struct PendingPush {
    store::MailboxId mailbox{};
    std::shared_ptr<wire::Envelope> envelope;
  };
  std::vector<PendingPush> prepare_pushes(const wire::SendEnvelopes& request);
  static void push_committed(Router& router, std::vector<PendingPush>& pushes,
                             const std::vector<store::StoredEnvelopeId>& ids);

  ServiceContext& context_;
  asio::any_io_executor executor_;
  std::optional<crypto::X25519Public> peer_static_;
  std::optional<store::DeviceRecord> device_;
  ReplySink sink_;
  bool tunnel_requested_ = false;
};

}  // namespace samizdat::server
