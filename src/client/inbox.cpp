#include "client/inbox.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "client/contact_map_channel.hpp"
#include "client/message_content.hpp"
#include "crypto/e2e/ratchet_message.hpp"
#include "crypto/e2e/ratchet_session.hpp"
#include "crypto/e2e/sealed_sender.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

constexpr std::uint32_t kFetchLimit = 100;
constexpr std::int64_t kReceiptLifetimeMs = 7LL * 24 * 60 * 60 * 1000;

struct PendingReceipts {
  DeviceId device_id = 1;
  std::vector<Bytes> message_ids;
};

// Everything processing one envelope touches; it runs inside the caller's transaction.
// An error with a code other than storage/io means the envelope can never be opened:
// it is acked and logged. Storage errors abort the whole batch (nothing is acked).

struct EnvelopeContext {
  AccountStore& store;
  const crypto::Ed25519KeyPair& identity;
  const Ed25519Public& certificate_key;
  std::map<Ed25519Public, PendingReceipts>& receipts;
  ReceiveReport& report;
  bool& consumed_prekey;
  std::vector<ContactMapEvent>& map_events;  // acted on after the batch commits
};

Result<Bytes> decrypt_from(EnvelopeContext& ctx, const Ed25519Public& sender, const MailboxId& sender_mailbox,
                           ByteView content) {
  auto type = SZ_TRY(crypto::e2e::peek_message_type(content));
  auto sessions = SZ_TRY(ctx.store.sessions(sender_mailbox));
  std::int64_t now = unix_millis();
  if (type == crypto::e2e::MessageType::prekey_message) {
    auto message = SZ_TRY(crypto::e2e::PreKeyMessage::parse(content));
    if (message.x3dh.initiator_identity != sender) {
      return make_error(Errc::auth_failed, "a first message names a different sender than its envelope");
    }
    for (auto& session : sessions) {
      if (session.base_key() == message.x3dh.ephemeral_key) {
        auto plaintext = SZ_TRY(session.decrypt(content));
        SZ_CHECK(ctx.store.put_session(sender_mailbox, session, now));
        return plaintext;
      }
    }
    auto spk = SZ_TRY(ctx.store.signed_prekey(message.x3dh.signed_prekey_id));
    if (!spk)
      return make_error(Errc::not_found, "a first message uses a signed prekey this device does not have");
    std::optional<crypto::e2e::OneTimePreKey> opk;
    if (message.x3dh.one_time_prekey_id) {
      opk = SZ_TRY(ctx.store.one_time_prekey(*message.x3dh.one_time_prekey_id));
      if (!opk) {
        return make_error(Errc::replay, "a first message uses a one-time prekey that was already used");
      }
    }
    auto accepted =
        SZ_TRY(crypto::e2e::RatchetSession::accept(ctx.identity, *spk, opk ? &*opk : nullptr, message));
    if (accepted.session.remote_identity() != sender) {
      return make_error(Errc::auth_failed, "a first message's identity does not match its sealed sender");
    }
    SZ_CHECK(ctx.store.put_session(sender_mailbox, accepted.session, now));
    if (accepted.consumed_one_time_prekey_id) {
      SZ_CHECK(ctx.store.delete_one_time_prekey(*accepted.consumed_one_time_prekey_id));
      ctx.consumed_prekey = true;
    }
    return std::move(accepted.plaintext);
  }
  Error last = make_error(Errc::not_found, "a message for a session this device does not have");
  for (auto& session : sessions) {
    auto plaintext = session.decrypt(content);
    if (plaintext.ok()) {
      SZ_CHECK(ctx.store.put_session(sender_mailbox, session, now));
      return std::move(*plaintext);
    }
    // A replay on the session that owns the message is final; anything else: try the next.
    if (plaintext.error().code == Errc::replay) return std::move(plaintext).error();
    last = std::move(plaintext).error();
  }
  return last;
}

Status process_envelope(EnvelopeContext& ctx, const wire::Envelope& envelope) {
  std::int64_t now = unix_millis();
  auto opened =
      SZ_TRY(crypto::e2e::open_envelope(ctx.identity, ctx.certificate_key, now, as_bytes(envelope.sealed())));
  const Ed25519Public& sender = opened.certificate.sender_identity;
  DeviceId sender_device = opened.certificate.sender_device_id;
  auto contact = SZ_TRY(ctx.store.contact_by_identity(sender));
  MailboxId sender_mailbox = crypto::e2e::mailbox_id(sender, sender_device);
  auto plaintext = SZ_TRY(decrypt_from(ctx, sender, sender_mailbox, opened.content));
  auto content = SZ_TRY(parse_content(plaintext));

  if (!contact) {
    // Someone who has our invite wrote first: remember them (unnamed) so we can answer.
    ContactRecord stranger;
    stranger.identity_key = sender;
    stranger.device_id = sender_device;
    stranger.added_at_ms = now;
    stranger.last_activity_ms = now;
    SZ_CHECK(ctx.store.put_contact(stranger));
  }
  if (content.has_map_digest() || content.has_map_request() || content.has_map_reply()) {
    ctx.map_events.push_back(ContactMapEvent{sender, sender_device, content});
  }
  // Map requests and replies are between the two devices: no history, no receipt.
  if (content.has_map_request() || content.has_map_reply()) return {};
  if (content.has_receipt()) {
    auto state =
        content.receipt().kind() == wire::RECEIPT_KIND_READ ? MessageState::read : MessageState::delivered;
    for (const auto& id : content.receipt().message_ids()) {
      SZ_CHECK(ctx.store.advance_outgoing_state(sender, as_bytes(id), state, now));
    }
    ++ctx.report.receipts;
    return {};
  }
  MessageRecord message;
  message.message_id = to_bytes(as_bytes(content.message_id()));
  message.contact = sender;
  message.direction = Direction::incoming;
  message.state = MessageState::delivered;
  message.body = content.text();
  message.sent_at_ms = static_cast<std::int64_t>(content.sent_at_ms());
  message.local_at_ms = now;
  message.state_changed_at_ms = now;
  bool inserted = SZ_TRY(ctx.store.insert_message(message));
  SZ_CHECK(ctx.store.touch_contact(sender, now));
  // A redelivered id still gets a receipt (the first one may have been lost), but is
  // not stored or shown twice.
  auto& pending = ctx.receipts[sender];
  pending.device_id = sender_device;
  pending.message_ids.push_back(message.message_id);
  if (inserted) ctx.report.received.push_back(std::move(message));
  return {};
}

}  // namespace

Status Inbox::process_batch(const std::vector<wire::Envelope>& envelopes, ReceiveReport& report) {
  if (envelopes.empty()) return {};
  if (last_processed_connection_ != connector_.device_connections()) {
    // A new connection (or another endpoint) starts afresh. Re-processing is harmless
    // anyway: the ratchet refuses a message it already decrypted.
    last_processed_connection_ = connector_.device_connections();
    last_processed_id_ = 0;
  }
  std::map<Ed25519Public, PendingReceipts> receipts;
  bool consumed_prekey = false;
  std::vector<ContactMapEvent> map_events;
  EnvelopeContext ctx{store_,          account_.identity, account_.network.certificate_key, receipts, report,
                      consumed_prekey, map_events};
  std::size_t received_before = report.received.size();
  auto tx = SZ_TRY(store_.transaction());
  for (const auto& envelope : envelopes) {
    if (envelope.id() != 0 && envelope.id() <= last_processed_id_) continue;
    auto processed = process_envelope(ctx, envelope);
    if (!processed.ok()) {
      if (processed.error().code == Errc::storage || processed.error().code == Errc::io) {
        report.received.resize(received_before);
        return processed;
      }
      if (processed.error().code == Errc::replay) {
        spdlog::debug("dropping envelope {}: already processed ({})", envelope.id(),
                      processed.error().message);
      } else {
        spdlog::warn("dropping an envelope that cannot be opened: {}", processed.error().describe());
        ++report.dropped;
      }
    }
  }
  std::int64_t now = unix_millis();
  for (const auto& [contact, pending] : receipts) {
    for (std::size_t i = 0; i < pending.message_ids.size(); i += kMaxReceiptIds) {
      std::vector<Bytes> ids(
          pending.message_ids.begin() + static_cast<std::ptrdiff_t>(i),
          pending.message_ids.begin() +
              static_cast<std::ptrdiff_t>(std::min(pending.message_ids.size(), i + kMaxReceiptIds)));
      OutboxRecord entry;
      entry.contact = contact;
      entry.mailbox = crypto::e2e::mailbox_id(contact, pending.device_id);
      entry.content = wire::serialize_message(receipt_content(wire::RECEIPT_KIND_DELIVERED, ids, now));
      entry.created_at_ms = now;
      entry.expires_at_ms = now + kReceiptLifetimeMs;
      SZ_TRY(store_.enqueue(entry));
    }
  }
  auto committed = tx.commit();
  if (!committed.ok()) {
    report.received.resize(received_before);
    return committed;
  }
  for (const auto& envelope : envelopes) last_processed_id_ = std::max(last_processed_id_, envelope.id());
  consumed_prekey_ = consumed_prekey_ || consumed_prekey;
  // Best effort: the messages are safely stored; a failure here only delays a map.
  if (auto applied = apply_contact_maps(store_, connector_, account_.network, map_events); !applied.ok()) {
    spdlog::warn("could not act on contacts' network map news: {}", applied.error().describe());
  }
  return {};
}

asio::awaitable<Status> Inbox::ack(const std::vector<wire::Envelope>& envelopes) {
  if (envelopes.empty()) co_return Status{};
  wire::ClientMessage request;
  for (const auto& envelope : envelopes) request.mutable_ack_envelopes()->add_envelope_ids(envelope.id());
  auto reply = co_await connector_.call(Via::device, std::move(request));
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Status{};
}

asio::awaitable<Status> Inbox::receive(ReceiveReport& report, std::chrono::milliseconds wait) {
  std::uint64_t after = 0;
  for (;;) {
    wire::ClientMessage request;
    request.mutable_fetch_envelopes()->set_after_id(after);
    request.mutable_fetch_envelopes()->set_limit(kFetchLimit);
    auto reply = co_await connector_.call(Via::device, std::move(request));
    if (!reply.ok()) co_return std::move(reply).error();
    if (!reply->has_envelope_batch()) {
      co_return make_error(Errc::protocol, "the server answered a fetch with something else");
    }
    std::vector<wire::Envelope> envelopes(reply->envelope_batch().envelopes().begin(),
                                          reply->envelope_batch().envelopes().end());
    SZ_CO_TRY(process_batch(envelopes, report));
    SZ_CO_TRY(co_await ack(envelopes));
    for (const auto& envelope : envelopes) after = std::max(after, envelope.id());
    if (!reply->envelope_batch().more() || envelopes.empty()) break;
  }

  // Envelopes pushed meanwhile (or, when asked to wait, the next ones to arrive).
  ServerConnection* connection = connector_.kept(Via::device);
  if (!connection) co_return Status{};
  auto wait_for = report.received.empty() ? wait : std::chrono::milliseconds{0};
  auto pushed = co_await connection->wait_for_push(wait_for);
  if (pushed.ok() && !pushed->empty()) {
    SZ_CO_TRY(process_batch(*pushed, report));
    SZ_CO_TRY(co_await ack(*pushed));
  } else if (!pushed.ok() && wait_for.count() > 0) {
    // Long-running mode: the keepalive found the connection dead while we waited. Not
    // an error for the loop calling sync: the next call dials another endpoint.
    if (!connector_.keeps_alive()) co_return std::move(pushed).error();
    connection = connector_.kept(Via::device);  // it may have been replaced while we waited
    if (connection && !connection->loss()) co_return std::move(pushed).error();
    connector_.drop(Via::device);
  }
  co_return Status{};
}

Result<std::vector<MessageRecord>> Inbox::take_unread() {
  auto unread = SZ_TRY(store_.unread_incoming());
  if (unread.empty()) return unread;
  std::int64_t now = unix_millis();
  std::map<Ed25519Public, std::vector<Bytes>> by_contact;
  auto tx = SZ_TRY(store_.transaction());
  for (auto& message : unread) {
    SZ_CHECK(store_.set_message_state(message.contact, Direction::incoming, message.message_id,
                                      MessageState::read, now));
    message.state = MessageState::read;
    by_contact[message.contact].push_back(message.message_id);
  }
  for (const auto& [identity, ids] : by_contact) {
    auto contact = SZ_TRY(store_.contact_by_identity(identity));
    if (!contact) continue;
    for (std::size_t i = 0; i < ids.size(); i += kMaxReceiptIds) {
      std::vector<Bytes> chunk(
          ids.begin() + static_cast<std::ptrdiff_t>(i),
          ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kMaxReceiptIds)));
      OutboxRecord entry;
      entry.contact = identity;
      entry.mailbox = contact->mailbox();
      entry.content = wire::serialize_message(receipt_content(wire::RECEIPT_KIND_READ, chunk, now));
      entry.created_at_ms = now;
      entry.expires_at_ms = now + kReceiptLifetimeMs;
      SZ_TRY(store_.enqueue(entry));
    }
  }
  SZ_CHECK(tx.commit());
  return unread;
}

}  // namespace samizdat::client
