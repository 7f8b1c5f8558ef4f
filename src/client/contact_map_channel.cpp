#include "client/contact_map_channel.hpp"

#include <spdlog/spdlog.h>

#include "reach/bootstrap.hpp"
#include "util/clock.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

// Requests and replies wait in the outbox like any message: a contact offline now gets them
// from its mailbox later.
constexpr std::int64_t kControlLifetimeMs = 7LL * 24 * 60 * 60 * 1000;

std::optional<crypto::Ed25519Public> pinned_root(const NetworkConfig& network) {
  auto bootstrap = reach::parse_bootstrap(network.bootstrap);
  if (!bootstrap.ok()) return std::nullopt;
  return reach::map_root_key(*bootstrap);
}

}  // namespace

std::optional<wire::ContactMapDigest> advertised_map_digest(const NetworkConfig& network,
                                                            const MapKeeper& map) {
  auto root = pinned_root(network);
  if (!root) return std::nullopt;
  return contact_map_digest(map.current(), *root);
}

Status apply_contact_maps(AccountStore& store, Connector& connector, const NetworkConfig& network,
                          const std::vector<ContactMapEvent>& events) {
  if (events.empty()) return {};
  auto root = pinned_root(network);
  if (!root) return {};
  std::int64_t now = unix_millis();

  // Replies first: a map that arrives in this batch makes the digests below old news.
  for (const auto& event : events) {
    if (!event.content.has_map_reply()) continue;
    std::string name = display_name(store, event.contact);
    auto accepted = accept_contact_map(connector.map(), store, event.content.map_reply(), name);
    if (accepted.ok()) {
      connector.clear_backoff();  // new endpoints, and maybe old ones unblocked: try again
    } else if (accepted.error().code == Errc::storage || accepted.error().code == Errc::io) {
      return std::move(accepted).error();
    } else if (accepted.error().code == Errc::replay) {
      spdlog::debug("map from contact {} is not newer than ours: {}", name, accepted.error().message);
    } else {
      spdlog::warn("map reply from contact {} rejected: {}", name, accepted.error().message);
    }
  }

  auto ledger = SZ_TRY(load_contact_map_ledger(store));
  std::vector<OutboxRecord> queued;
  auto queue = [&](const ContactMapEvent& event, const wire::MessageContent& content) {
    OutboxRecord entry;
    entry.contact = event.contact;
    entry.mailbox = crypto::e2e::mailbox_id(event.contact, event.device);
    entry.content = wire::serialize_message(content);
    entry.created_at_ms = now;
    entry.expires_at_ms = now + kControlLifetimeMs;
    queued.push_back(std::move(entry));
  };
  for (const auto& event : events) {
    const auto* current = connector.map().current();
    if (event.content.has_map_digest() && contact_map_is_newer(event.content.map_digest(), current, *root) &&
        ledger.should_ask(event.contact, event.content.map_digest(), now)) {
      spdlog::info("contact {} has network map v{} (we have {}): asking for it",
                   display_name(store, event.contact), event.content.map_digest().version(),
                   current ? "v" + std::to_string(current->map.version) : std::string("none"));
      queue(event, map_request_content(event.content.map_digest(), now));
      ledger.record_asked(event.contact, event.content.map_digest(), now);
    }
    if (event.content.has_map_request()) {
      std::string name = display_name(store, event.contact);
      if (!can_answer_map_request(event.content.map_request(), current)) {
        spdlog::info("contact {} asked for network map v{}, which we do not have", name,
                     event.content.map_request().version());
        continue;
      }
      if (!ledger.should_answer(event.contact, *current)) {
        spdlog::info("contact {} asked again for network map v{}: already sent", name, current->map.version);
        continue;
      }
      auto reply = map_reply_content(*current, now);
      if (!reply.ok()) {
        spdlog::warn("cannot hand network map v{} to contact {}: {}", current->map.version, name,
                     reply.error().message);
        continue;
      }
      spdlog::info("sending network map v{} to contact {}", current->map.version, name);
      queue(event, *reply);
      ledger.record_answered(event.contact, *current, now);
    }
  }
  if (queued.empty()) return {};
  auto tx = SZ_TRY(store.transaction());
  for (const auto& entry : queued) SZ_TRY(store.enqueue(entry));
  SZ_CHECK(save_contact_map_ledger(store, ledger));
  return tx.commit();
}

}  // namespace samizdat::client
