#include "client/outbox.hpp"

#include <spdlog/spdlog.h>

#include "client/contact_map_channel.hpp"
#include "client/message_content.hpp"
#include "crypto/e2e/ratchet_session.hpp"
#include "crypto/e2e/sealed_sender.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"
#include "wire/envelope.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

constexpr std::int64_t kOutboxLifetimeMs = 7LL * 24 * 60 * 60 * 1000;
constexpr std::size_t kMaxEnvelopesPerSend = 64;

bool is_transient(Errc code) {
  return code == Errc::network || code == Errc::timeout || code == Errc::unavailable ||
         code == Errc::storage || code == Errc::io;
}

// Converts a bundle from the (untrusted) server, checking it is for the expected identity.
Result<crypto::e2e::PreKeyBundle> bundle_from_wire(const wire::PrekeyBundle& in,
                                                   const Ed25519Public& expected) {
  crypto::e2e::PreKeyBundle bundle;
  bundle.identity_key = SZ_TRY(crypto::to_array<32>(as_bytes(in.identity_key())));
  if (bundle.identity_key != expected) {
    return make_error(Errc::auth_failed,
                      "the server returned keys for a different identity than the contact's");
  }
  bundle.device_id = in.device_id();
  bundle.signed_prekey.id = in.signed_prekey().id();
  bundle.signed_prekey.public_key = SZ_TRY(crypto::to_array<32>(as_bytes(in.signed_prekey().public_key())));
  bundle.signed_prekey.signature = SZ_TRY(crypto::to_array<64>(as_bytes(in.signed_prekey().signature())));
  if (in.has_one_time_prekey()) {
    crypto::e2e::OneTimePreKeyPublic opk;
    opk.id = in.one_time_prekey().id();
    opk.public_key = SZ_TRY(crypto::to_array<32>(as_bytes(in.one_time_prekey().public_key())));
    bundle.one_time_prekey = opk;
  }
  return bundle;
}

}  // namespace

Status Outbox::load_certificate() {
  auto stored = SZ_TRY(store_.get(settings::sender_certificate));
  if (!stored) return {};
  // One that no longer parses is simply fetched again.
  if (auto parsed = crypto::e2e::SenderCertificate::parse(*stored); parsed.ok()) certificate_ = *parsed;
  return {};
}

asio::awaitable<Status> Outbox::ensure_certificate() {
  constexpr std::int64_t kRefreshMargin = 60 * 60 * 1000;  // renew an hour before expiry
  if (certificate_ && certificate_->expires_unix_ms > unix_millis() + kRefreshMargin) co_return Status{};
  wire::ClientMessage request;
  request.mutable_get_sender_certificate();
  auto reply = co_await connector_.call(Via::device, std::move(request));
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->has_sender_certificate()) {
    co_return make_error(Errc::protocol, "the server answered the certificate request with something else");
  }
  const std::string& bytes = reply->sender_certificate().certificate();
  auto certificate = crypto::e2e::SenderCertificate::parse(as_bytes(bytes));
  if (!certificate.ok()) co_return std::move(certificate).error();
  auto verified = certificate->verify(account_.network.certificate_key, unix_millis());
  if (!verified.ok()) {
    co_return make_error(Errc::auth_failed,
                         "the server's sender certificate does not verify against the key in "
                         "the bootstrap string (" +
                             verified.error().message + ")");
  }
  if (certificate->sender_identity != account_.identity.public_key ||
      certificate->sender_device_id != account_.device_id) {
    co_return make_error(Errc::auth_failed, "the server issued a sender certificate for someone else");
  }
  SZ_CO_TRY(store_.put(settings::sender_certificate, certificate->encode()));
  certificate_ = *certificate;
  co_return Status{};
}

Result<MessageRecord> Outbox::queue_text(const ContactRecord& contact, std::string_view text) {
  std::int64_t now = unix_millis();
  auto content = SZ_TRY(text_content(text, now));
  MessageRecord message;
  message.message_id = to_bytes(as_bytes(content.message_id()));
  message.contact = contact.identity_key;
  message.direction = Direction::outgoing;
  message.state = MessageState::queued;
  message.body = std::string(text);
  message.sent_at_ms = now;
  message.local_at_ms = now;
  message.state_changed_at_ms = now;
  OutboxRecord entry;
  entry.message_id = message.message_id;
  entry.contact = contact.identity_key;
  entry.mailbox = contact.mailbox();
  entry.content = wire::serialize_message(content);
  entry.created_at_ms = now;
  entry.expires_at_ms = now + kOutboxLifetimeMs;
  auto tx = SZ_TRY(store_.transaction());
  SZ_TRY(store_.insert_message(message));
  SZ_TRY(store_.enqueue(entry));
  SZ_CHECK(store_.touch_contact(contact.identity_key, now));
  SZ_CHECK(tx.commit());
  return message;
}

asio::awaitable<Result<FlushReport>> Outbox::flush() {
  if (flushing_) {
    // Another flush is running on this executor: it goes round once more for our entries.
    flush_again_ = true;
    auto size = store_.outbox_size();
    if (!size.ok()) co_return std::move(size).error();
    co_return FlushReport{0, 0, static_cast<std::size_t>(*size)};
  }
  flushing_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{flushing_};
  FlushReport total;
  do {
    flush_again_ = false;
    auto report = co_await flush_once();
    if (!report.ok()) co_return std::move(report).error();
    total.sent += report->sent;
    total.failed += report->failed;
    total.pending = report->pending;
  } while (flush_again_);
  co_return total;
}

Status Outbox::mark_failed(const OutboxRecord& entry, std::string_view reason) {
  spdlog::warn("giving up on an outgoing message to {}: {}", display_name(store_, entry.contact), reason);
  auto tx = SZ_TRY(store_.transaction());
  SZ_CHECK(store_.remove_from_outbox(entry.id));
  if (!entry.message_id.empty()) {
    SZ_CHECK(store_.set_message_state(entry.contact, Direction::outgoing, entry.message_id,
                                      MessageState::failed, unix_millis(), reason));
  }
  return tx.commit();
}

asio::awaitable<Result<std::optional<crypto::e2e::PreKeyBundle>>> Outbox::fetch_bundle(
    const OutboxRecord& entry) {
  auto contact = store_.contact_by_identity(entry.contact);
  if (!contact.ok()) co_return std::move(contact).error();
  DeviceId device = *contact ? (*contact)->device_id : 1;
  wire::ClientMessage request;
  auto* target = request.mutable_fetch_prekey_bundle()->mutable_device();
  target->set_identity_key(entry.contact.data(), entry.contact.size());
  target->set_device_id(device);
  // Anonymous: the server does not learn who is about to write to whom.
  auto reply = co_await connector_.call(Via::anonymous, std::move(request));
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->has_prekey_bundle()) {
    co_return make_error(Errc::protocol, "the server answered a prekey request with something else");
  }
  auto bundle = bundle_from_wire(reply->prekey_bundle(), entry.contact);
  if (!bundle.ok()) co_return std::move(bundle).error();
  co_return std::optional<crypto::e2e::PreKeyBundle>{std::move(*bundle)};
}

Status Outbox::seal_entry(const OutboxRecord& entry, const std::optional<crypto::e2e::PreKeyBundle>& bundle) {
  // Load, encrypt, store: no suspension point in between, so nothing else on this
  // executor can use the same session meanwhile.
  auto tx = SZ_TRY(store_.transaction());
  auto current = SZ_TRY(store_.current_session(entry.mailbox));
  std::optional<crypto::e2e::RatchetSession> session;
  if (current) {
    session = std::move(*current);
  } else {
    if (!bundle) return make_error(Errc::internal, "no session and no prekey bundle to start one");
    session = SZ_TRY(crypto::e2e::RatchetSession::initiate(account_.identity, *bundle));
  }
  // Channel 4: the newest map digest rides inside every message, set now (not when queued)
  // so a map learned meanwhile is what the contact hears about.
  auto plaintext =
      attach_map_digest(entry.content, advertised_map_digest(account_.network, connector_.map()));
  if (!plaintext.ok())
    return make_error(Errc::internal, "queued content does not parse: " + plaintext.error().message);
  auto ratchet_message = SZ_TRY(session->encrypt(*plaintext));
  auto sealed =
      SZ_TRY(crypto::e2e::seal_envelope(account_.identity, *certificate_, entry.contact, ratchet_message));
  if (sealed.size() > wire::kMaxSealedSize) {
    return make_error(Errc::limit_exceeded, "the sealed message is larger than the server accepts");
  }
  SZ_CHECK(store_.put_session(entry.mailbox, *session, unix_millis()));
  SZ_CHECK(store_.set_sealed(entry.id, sealed));
  return tx.commit();
}

asio::awaitable<Result<FlushReport>> Outbox::flush_once() {
  FlushReport report;
  auto entries = store_.outbox();
  if (!entries.ok()) co_return std::move(entries).error();
  if (entries->empty()) co_return report;

  std::int64_t now = unix_millis();
  bool need_certificate = false;
  for (const auto& entry : *entries) need_certificate |= entry.sealed.empty();
  if (need_certificate) {
    auto certified = co_await ensure_certificate();
    if (!certified.ok()) co_return std::move(certified).error();
  }

  std::vector<OutboxRecord> ready;
  for (auto& entry : *entries) {
    if (entry.expires_at_ms < now) {
      SZ_CO_TRY(mark_failed(entry, "not accepted by the server within 7 days"));
      ++report.failed;
      continue;
    }
    if (entry.sealed.empty()) {
      auto session = store_.current_session(entry.mailbox);
      if (!session.ok()) co_return std::move(session).error();
      std::optional<crypto::e2e::PreKeyBundle> bundle;
      if (!*session) {
        auto fetched = co_await fetch_bundle(entry);
        if (!fetched.ok()) {
          if (is_transient(fetched.error().code)) co_return std::move(fetched).error();
          SZ_CO_TRY(mark_failed(entry, "cannot start a session: " + fetched.error().message));
          ++report.failed;
          continue;
        }
        bundle = std::move(*fetched);
      }
      auto sealed = seal_entry(entry, bundle);
      if (!sealed.ok()) {
        if (is_transient(sealed.error().code)) co_return sealed.error();
        SZ_CO_TRY(mark_failed(entry, sealed.error().message));
        ++report.failed;
        continue;
      }
      // Re-read: sealing replaced content with the sealed bytes.
      auto all = store_.outbox();
      if (!all.ok()) co_return std::move(all).error();
      for (auto& fresh : *all) {
        if (fresh.id == entry.id) entry = std::move(fresh);
      }
    }
    ready.push_back(std::move(entry));
  }

  for (std::size_t i = 0; i < ready.size(); i += kMaxEnvelopesPerSend) {
    std::size_t end = std::min(ready.size(), i + kMaxEnvelopesPerSend);
    std::vector<OutboxRecord> batch(
        std::make_move_iterator(ready.begin() + static_cast<std::ptrdiff_t>(i)),
        std::make_move_iterator(ready.begin() + static_cast<std::ptrdiff_t>(end)));
    auto sent = co_await send_sealed(std::move(batch), report);
    if (!sent.ok()) co_return std::move(sent).error();
  }
  auto size = store_.outbox_size();
  if (!size.ok()) co_return std::move(size).error();
  report.pending = static_cast<std::size_t>(*size);
  co_return report;
}

asio::awaitable<Status> Outbox::send_sealed(std::vector<OutboxRecord> entries, FlushReport& report) {
  wire::ClientMessage request;
  for (const auto& entry : entries) {
    auto* out = request.mutable_send_envelopes()->add_envelopes();
    out->set_mailbox(entry.mailbox.data(), entry.mailbox.size());
    out->set_ciphertext(entry.sealed.data(), entry.sealed.size());
    SZ_CO_TRY(store_.note_attempt(entry.id));
  }
  // Sealed sender over an anonymous connection: the server sees neither who sends nor,
  // from the connection, which account it is.
  auto reply = co_await connector_.call(Via::anonymous, std::move(request));
  if (!reply.ok()) {
    Error error = std::move(reply).error();
    if (is_transient(error.code)) co_return error;
    if (entries.size() > 1) {
      // Find the envelope the server objects to; the others go through.
      for (auto& entry : entries) {
        std::vector<OutboxRecord> one;
        one.push_back(std::move(entry));
        auto sent = co_await send_sealed(std::move(one), report);
        if (!sent.ok()) co_return sent;
      }
      co_return Status{};
    }
    if (error.code == Errc::limit_exceeded) {
      spdlog::warn("the server refused a message for now ({}); it stays in the outbox", error.message);
      co_return Status{};
    }
    SZ_CO_TRY(mark_failed(entries.front(), error.message));
    ++report.failed;
    co_return Status{};
  }
  if (!reply->has_envelopes_accepted() ||
      static_cast<std::size_t>(reply->envelopes_accepted().envelope_ids_size()) != entries.size()) {
    co_return make_error(Errc::protocol, "the server acknowledged a send with something unexpected");
  }
  auto tx = store_.transaction();
  if (!tx.ok()) co_return std::move(tx).error();
  std::int64_t now = unix_millis();
  for (const auto& entry : entries) {
    SZ_CO_TRY(store_.remove_from_outbox(entry.id));
    if (!entry.message_id.empty()) {
      SZ_CO_TRY(store_.advance_outgoing_state(entry.contact, entry.message_id, MessageState::sent, now));
    }
  }
  SZ_CO_TRY(tx->commit());
  report.sent += entries.size();
  co_return Status{};
}

}  // namespace samizdat::client
