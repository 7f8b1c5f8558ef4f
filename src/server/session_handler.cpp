#include "server/session_handler.hpp"

#include "crypto/e2e/device_registration.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "crypto/e2e/sender_certificate.hpp"
#include "server/map_push.hpp"
#include "server/store_call.hpp"
#include "server/tunnel_request.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "wire/error_code.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::server {
namespace {

template <std::size_t N>
Result<std::array<std::uint8_t, N>> field(const std::string& bytes, std::string_view name) {
  if (bytes.size() != N) {
    return make_error(Errc::invalid_argument, std::string(name) + " must be " + std::to_string(N) +
                                                  " bytes, got " + std::to_string(bytes.size()));
  }
  std::array<std::uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

std::string as_string(ByteView bytes) { return std::string(as_chars(bytes)); }

wire::ServerMessage error_reply(Errc code, std::string message) {
  wire::ServerMessage reply;
  auto* error = reply.mutable_error();
  error->set_code(wire::to_wire_error(code));
  error->set_message(std::move(message));
  return reply;
}

}  // namespace

SessionHandler::SessionHandler(ServiceContext& context, asio::any_io_executor executor,
                               std::optional<crypto::X25519Public> peer_static, ReplySink sink)
    : context_(context), executor_(std::move(executor)), peer_static_(peer_static), sink_(std::move(sink)) {}

const store::DeviceRecord* SessionHandler::device() {
  if (device_) return &*device_;
  if (!peer_static_) return nullptr;
  auto found = context_.keys.find_device_by_noise_key(*peer_static_);
  if (!found.ok()) return nullptr;
  device_ = std::move(*found);
  return &*device_;
}

Result<const store::DeviceRecord*> SessionHandler::require_device() {
  if (const auto* record = device()) return record;
  if (!peer_static_) {
    return make_error(
        Errc::auth_failed,
        "this request needs a registered device: connect with your device key (IKpsk2), not anonymously");
  }
  return make_error(Errc::auth_failed, "this device key is not registered: register the device first");
}

void SessionHandler::refuse(std::uint64_t request_id, Errc code, std::string message) {
  auto reply = error_reply(code, std::move(message));
  reply.set_request_id(request_id);
  sink_(reply);
}

asio::awaitable<Status> SessionHandler::handle(ByteView message) {
  auto request =
      wire::parse_message<wire::ClientMessage>(message, context_.limits.max_message_bytes, "client message");
  if (!request.ok()) {
    refuse(0, request.error().code, request.error().message + ": closing the connection");
    co_return std::move(request).error();
  }
  auto reply = co_await dispatch(*request);
  if (!reply.ok()) {
    refuse(request->request_id(), reply.error().code, reply.error().message);
    co_return Status{};
  }
  reply->set_request_id(request->request_id());
  sink_(*reply);
  co_return Status{};
}

asio::awaitable<Result<wire::ServerMessage>> SessionHandler::dispatch(const wire::ClientMessage& request) {
  using Body = wire::ClientMessage::BodyCase;
  switch (request.body_case()) {
    case Body::kRegisterDevice:
      co_return co_await register_device(request.register_device());
    case Body::kUploadPrekeys:
      co_return co_await upload_prekeys(request.upload_prekeys());
    case Body::kFetchPrekeyBundle:
      co_return co_await fetch_prekey_bundle(request.fetch_prekey_bundle());
    case Body::kGetSenderCertificate:
      co_return sender_certificate();
    case Body::kSendEnvelopes:
      co_return co_await send_envelopes(request.send_envelopes());
    case Body::kFetchEnvelopes:
      co_return fetch_envelopes(request.fetch_envelopes());
    case Body::kAckEnvelopes:
      co_return co_await ack_envelopes(request.ack_envelopes());
    case Body::kPing: {
      wire::ServerMessage reply;
      reply.mutable_pong()->set_nonce(request.ping().nonce());
      reply.mutable_pong()->set_server_time_ms(static_cast<std::uint64_t>(unix_millis()));
      co_return reply;
    }
    case Body::kOpenTunnel:
      co_return open_tunnel(context_, peer_static_, tunnel_requested_);
    case Body::kGetMap:
      co_return map_reply(context_.published_map);
    case Body::BODY_NOT_SET:
      break;
  }
  co_return make_error(Errc::protocol, "unknown or empty request: this server may be older than the client");
}

// Coroutine bodies below avoid SZ_TRY-style statement expressions and temporaries with
// destructors inside co_await expressions (GCC 12 miscompiles both); validation lives in
// plain functions.

Result<store::DeviceRecord> SessionHandler::parse_registration(const wire::RegisterDevice& request) {
  auto identity = SZ_TRY(field<32>(request.identity_key(), "identity_key"));
  auto noise_key = SZ_TRY(field<32>(request.noise_static_key(), "noise_static_key"));
  auto signature = SZ_TRY(field<64>(request.signature(), "signature"));
  if (request.device_id() == 0) return make_error(Errc::invalid_argument, "device_id must be at least 1");
  if (!crypto::e2e::verify_device_registration(identity, request.device_id(), noise_key, signature).ok()) {
    return make_error(Errc::auth_failed, "registration signature does not verify under the identity key");
  }
  store::DeviceRecord record;
  record.mailbox = crypto::e2e::mailbox_id(identity, request.device_id());
  record.identity_key = identity;
  record.device_id = request.device_id();
  record.noise_static_key = noise_key;
  return record;
}

asio::awaitable<Result<wire::ServerMessage>> SessionHandler::register_device(
    const wire::RegisterDevice& request) {
  auto record = parse_registration(request);
  if (!record.ok()) co_return std::move(record).error();
  auto& keys = context_.keys;
  auto start = [&keys, device = *record](auto callback) {
    keys.register_device(device, std::move(callback));
  };
  auto done = co_await store_call<void>(executor_, std::move(start));
  if (!done.ok()) co_return std::move(done).error();
  spdlog::debug("registered device {} at mailbox {}", record->device_id,
                store::describe_mailbox(record->mailbox));
  wire::ServerMessage reply;
  reply.mutable_device_registered()->set_mailbox(as_string(record->mailbox));
  co_return reply;
}

Result<SessionHandler::PrekeyUpload> SessionHandler::parse_prekey_upload(const wire::UploadPrekeys& request) {
  const auto* device = SZ_TRY(require_device());
  PrekeyUpload upload;
  upload.mailbox = device->mailbox;
  if (static_cast<std::size_t>(request.one_time_prekeys_size()) > context_.limits.max_prekeys_per_upload) {
    return make_error(Errc::limit_exceeded, "at most " +
                                                std::to_string(context_.limits.max_prekeys_per_upload) +
                                                " one-time prekeys per upload: send them in batches");
  }
  for (const auto& prekey : request.one_time_prekeys()) {
    auto key = SZ_TRY(field<32>(prekey.public_key(), "one-time prekey public_key"));
    upload.one_time.push_back(store::OneTimePrekey{prekey.id(), to_bytes(key)});
  }
  if (request.has_signed_prekey()) {
    crypto::e2e::SignedPreKeyPublic signed_prekey;
    signed_prekey.id = request.signed_prekey().id();
    signed_prekey.public_key =
        SZ_TRY(field<32>(request.signed_prekey().public_key(), "signed prekey public_key"));
    signed_prekey.signature =
        SZ_TRY(field<64>(request.signed_prekey().signature(), "signed prekey signature"));
    if (!crypto::e2e::verify_signed_prekey(device->identity_key, signed_prekey).ok()) {
      return make_error(Errc::auth_failed,
                        "the signed prekey's signature does not verify under this account's identity key");
    }
    upload.signed_prekey = store::SignedPrekey{signed_prekey.id, to_bytes(signed_prekey.public_key),
                                               to_bytes(signed_prekey.signature)};
  }
  return upload;
}

asio::awaitable<Result<wire::ServerMessage>> SessionHandler::upload_prekeys(
    const wire::UploadPrekeys& request) {
  auto upload = parse_prekey_upload(request);
  if (!upload.ok()) co_return std::move(upload).error();
  auto& keys = context_.keys;
  const auto mailbox = upload->mailbox;
  if (upload->signed_prekey) {
    auto start = [&keys, mailbox, prekey = std::move(*upload->signed_prekey)](auto callback) {
      keys.store_signed_prekey(mailbox, prekey, std::move(callback));
    };
    auto stored = co_await store_call<void>(executor_, std::move(start));
    if (!stored.ok()) co_return std::move(stored).error();
  }
  Result<std::size_t> remaining = std::size_t{0};
  if (!upload->one_time.empty()) {
    auto start = [&keys, mailbox, prekeys = std::move(upload->one_time)](auto callback) mutable {
      keys.add_one_time_prekeys(mailbox, std::move(prekeys), std::move(callback));
    };
    remaining = co_await store_call<std::size_t>(executor_, std::move(start));
  } else {
    remaining = keys.count_one_time_prekeys(mailbox);
  }
  if (!remaining.ok()) co_return std::move(remaining).error();
  wire::ServerMessage reply;
  reply.mutable_prekeys_stored()->set_one_time_prekeys_remaining(static_cast<std::uint32_t>(*remaining));
  reply.mutable_prekeys_stored()->set_low_watermark(context_.limits.prekey_low_watermark);
  co_return reply;
}

Result<store::MailboxId> SessionHandler::bundle_target(const wire::FetchPrekeyBundle& request) {
  if (request.has_device()) {
    auto identity = SZ_TRY(field<32>(request.device().identity_key(), "identity_key"));
    return crypto::e2e::mailbox_id(identity, request.device().device_id());
  }
  if (request.target_case() == wire::FetchPrekeyBundle::kMailbox)
    return field<32>(request.mailbox(), "mailbox");
  return make_error(Errc::invalid_argument,
                    "name a mailbox or a device address to fetch a prekey bundle for");
}

asio::awaitable<Result<wire::ServerMessage>> SessionHandler::fetch_prekey_bundle(
    const wire::FetchPrekeyBundle& request) {
  auto target = bundle_target(request);
  if (!target.ok()) co_return std::move(target).error();
  const store::MailboxId mailbox = *target;
  auto& keys = context_.keys;
  auto start = [&keys, mailbox](auto callback) { keys.take_prekey_bundle(mailbox, std::move(callback)); };
  auto bundle = co_await store_call<store::PrekeyBundle>(executor_, std::move(start));
  if (!bundle.ok()) {
    if (bundle.error().code == Errc::not_found) {
      co_return make_error(Errc::not_found,
                           "no device with published prekeys at mailbox " + store::describe_mailbox(mailbox) +
                               ": check the address, or the device has not uploaded prekeys yet");
    }
    co_return std::move(bundle).error();
  }
  wire::ServerMessage reply;
  auto* out = reply.mutable_prekey_bundle();
  out->set_identity_key(as_string(bundle->device.identity_key));
  out->set_device_id(bundle->device.device_id);
  out->set_mailbox(as_string(bundle->device.mailbox));
  out->mutable_signed_prekey()->set_id(bundle->signed_prekey.id);
  out->mutable_signed_prekey()->set_public_key(as_string(bundle->signed_prekey.public_key));
  out->mutable_signed_prekey()->set_signature(as_string(bundle->signed_prekey.signature));
  if (bundle->one_time_prekey) {
    out->mutable_one_time_prekey()->set_id(bundle->one_time_prekey->id);
    out->mutable_one_time_prekey()->set_public_key(as_string(bundle->one_time_prekey->public_key));
  }
  co_return reply;
}

Result<wire::ServerMessage> SessionHandler::sender_certificate() {
  const auto* device = SZ_TRY(require_device());
  auto expires = unix_millis() + context_.limits.sender_certificate_validity_ms;
  auto certificate = crypto::e2e::SenderCertificate::issue(context_.certificate_key, device->identity_key,
                                                           device->device_id, expires);
  wire::ServerMessage reply;
  reply.mutable_sender_certificate()->set_certificate(as_string(certificate.encode()));
  reply.mutable_sender_certificate()->set_expires_at_ms(static_cast<std::uint64_t>(expires));
  return reply;
}

Result<std::vector<store::NewEnvelope>> SessionHandler::parse_send(const wire::SendEnvelopes& request) {
  const auto& limits = context_.limits;
  if (request.envelopes_size() == 0)
    return make_error(Errc::invalid_argument, "a send needs at least one envelope");
  if (static_cast<std::size_t>(request.envelopes_size()) > limits.max_recipients_per_send) {
    return make_error(Errc::limit_exceeded, "at most " + std::to_string(limits.max_recipients_per_send) +
                                                " recipients per send: split the send");
  }
  std::vector<store::NewEnvelope> envelopes;
  envelopes.reserve(static_cast<std::size_t>(request.envelopes_size()));
  for (const auto& outgoing : request.envelopes()) {
    auto mailbox = SZ_TRY(field<32>(outgoing.mailbox(), "mailbox"));
    if (outgoing.ciphertext().empty()) return make_error(Errc::invalid_argument, "empty envelope ciphertext");
    if (outgoing.ciphertext().size() > limits.max_envelope_bytes) {
      return make_error(Errc::limit_exceeded, "envelope of " + std::to_string(outgoing.ciphertext().size()) +
                                                  " bytes exceeds this server's limit of " +
                                                  std::to_string(limits.max_envelope_bytes) +
                                                  " bytes: send large content as an attachment");
    }
    bool registered = SZ_TRY(context_.keys.is_registered(mailbox));
    if (!registered) {
      return make_error(Errc::not_found,
                        "no device is registered at mailbox " + store::describe_mailbox(mailbox));
    }
    envelopes.push_back(store::NewEnvelope{mailbox, to_bytes(as_bytes(outgoing.ciphertext())), 0});
  }
  return envelopes;
}

asio::awaitable<Result<wire::ServerMessage>> SessionHandler::send_envelopes(
    const wire::SendEnvelopes& request) {
  auto envelopes = parse_send(request);
  if (!envelopes.ok()) co_return std::move(envelopes).error();
  auto pushes = prepare_pushes(request);
  auto& mailboxes = context_.mailboxes;
  auto start = [&mailboxes, &router = context_.router, batch = std::move(*envelopes),
                pushes = std::move(pushes)](auto callback) mutable {
    // The pushes go out from the commit's own callback (the store's writer thread), as soon as
    // the envelopes are durable: not after this coroutine has been resumed on its worker,
    // which under load is one more queue to wait in on the way to the recipient.
    mailboxes.append(std::move(batch), [&router, pushes = std::move(pushes), callback = std::move(callback)](
                                           Result<std::vector<store::StoredEnvelopeId>> ids) mutable {
      if (ids.ok()) push_committed(router, pushes, *ids);
      callback(std::move(ids));
    });
  };
  auto ids = co_await store_call<std::vector<store::StoredEnvelopeId>>(executor_, std::move(start));
  if (!ids.ok()) co_return std::move(ids).error();
  wire::ServerMessage reply;
  for (auto id : *ids) reply.mutable_envelopes_accepted()->add_envelope_ids(static_cast<std::uint64_t>(id));
  co_return reply;
}

// The envelopes as they will be pushed, built on the session's thread; the writer thread
// only fills in the ids the commit assigned.
std::vector<SessionHandler::PendingPush> SessionHandler::prepare_pushes(const wire::SendEnvelopes& request) {
  auto now = unix_millis();
  std::vector<PendingPush> pushes;
  pushes.reserve(static_cast<std::size_t>(request.envelopes_size()));
  for (const auto& outgoing : request.envelopes()) {
    auto& push = pushes.emplace_back();
    std::copy_n(outgoing.mailbox().begin(), push.mailbox.size(), push.mailbox.begin());
    push.envelope = std::make_shared<wire::Envelope>();
    push.envelope->set_mailbox(outgoing.mailbox());
    push.envelope->set_sealed(outgoing.ciphertext());
    push.envelope->set_received_at_ms(static_cast<std::uint64_t>(now));
    push.envelope->set_expires_at_ms(static_cast<std::uint64_t>(now + context_.limits.retention_ms));
  }
  return pushes;
}

// Durable now: push to the recipients that are online (each on its own session's thread).
void SessionHandler::push_committed(Router& router, std::vector<PendingPush>& pushes,
                                    const std::vector<store::StoredEnvelopeId>& ids) {
  for (std::size_t i = 0; i < pushes.size() && i < ids.size(); ++i) {
    pushes[i].envelope->set_id(static_cast<std::uint64_t>(ids[i]));
    router.deliver(pushes[i].mailbox, std::move(pushes[i].envelope));
  }
}

Result<wire::ServerMessage> SessionHandler::fetch_envelopes(const wire::FetchEnvelopes& request) {
  const auto* device = SZ_TRY(require_device());
  const auto& limits = context_.limits;
  std::uint32_t limit = request.limit() == 0 ? limits.max_fetch : std::min(request.limit(), limits.max_fetch);
  auto after = static_cast<store::StoredEnvelopeId>(std::min<std::uint64_t>(request.after_id(), INT64_MAX));
  auto stored = SZ_TRY(context_.mailboxes.fetch(device->mailbox, after, limit));
  wire::ServerMessage reply;
  auto* batch = reply.mutable_envelope_batch();
  std::size_t bytes = 0;
  bool more = stored.size() >= limit;
  for (const auto& envelope : stored) {
    if (bytes + envelope.ciphertext.size() > limits.max_reply_bytes && batch->envelopes_size() > 0) {
      more = true;
      break;
    }
    bytes += envelope.ciphertext.size() + 64;
    auto* out = batch->add_envelopes();
    out->set_id(static_cast<std::uint64_t>(envelope.id));
    out->set_mailbox(as_string(envelope.mailbox));
    out->set_sealed(as_string(envelope.ciphertext));
    out->set_received_at_ms(static_cast<std::uint64_t>(envelope.received_at_ms));
    out->set_expires_at_ms(static_cast<std::uint64_t>(envelope.expires_at_ms));
  }
  batch->set_more(more);
  return reply;
}

asio::awaitable<Result<wire::ServerMessage>> SessionHandler::ack_envelopes(
    const wire::AckEnvelopes& request) {
  auto device = require_device();
  if (!device.ok()) co_return std::move(device).error();
  if (static_cast<std::size_t>(request.envelope_ids_size()) > 10'000) {
    co_return make_error(Errc::limit_exceeded, "at most 10000 envelope ids per ack");
  }
  std::vector<store::StoredEnvelopeId> ids;
  for (auto id : request.envelope_ids()) {
    if (id > 0 && id <= static_cast<std::uint64_t>(INT64_MAX))
      ids.push_back(static_cast<store::StoredEnvelopeId>(id));
  }
  auto& mailboxes = context_.mailboxes;
  auto start = [&mailboxes, mailbox = (*device)->mailbox, ids = std::move(ids)](auto callback) mutable {
    mailboxes.ack(mailbox, std::move(ids), std::move(callback));
  };
  auto deleted = co_await store_call<std::size_t>(executor_, std::move(start));
  if (!deleted.ok()) co_return std::move(deleted).error();
  wire::ServerMessage reply;
  reply.mutable_envelopes_acked()->set_count(static_cast<std::uint32_t>(*deleted));
  co_return reply;
}

}  // namespace samizdat::server
