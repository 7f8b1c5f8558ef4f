#include "client/contact_map.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "client/message_content.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

static_assert(kMaxContentSize >= kMaxContactMapBytes + 512, "a map reply must fit in message content");

constexpr std::string_view kLedgerMagic = "SZCML1";
constexpr std::size_t kEntrySize = 1 + 32 + 8 + kContactMapHashSize + 8;

bool hash_matches(const std::string& hash, const reach::MapDigest& digest) {
  return hash.size() == kContactMapHashSize &&
         std::memcmp(hash.data(), digest.data(), kContactMapHashSize) == 0;
}

std::array<std::uint8_t, kContactMapHashSize> short_hash(std::string_view hash) {
  std::array<std::uint8_t, kContactMapHashSize> out{};
  std::memcpy(out.data(), hash.data(), std::min(hash.size(), out.size()));
  return out;
}

}  // namespace

std::optional<wire::ContactMapDigest> contact_map_digest(const reach::SignedMap* current,
                                                         const crypto::Ed25519Public& root) {
  if (current == nullptr) return std::nullopt;
  wire::ContactMapDigest digest;
  digest.set_version(current->map.version);
  digest.set_hash(current->digest.data(), kContactMapHashSize);
  digest.set_root(root.data(), kContactMapRootSize);
  return digest;
}

Result<Bytes> attach_map_digest(ByteView content, const std::optional<wire::ContactMapDigest>& digest) {
  auto parsed =
      SZ_TRY(wire::parse_message<wire::MessageContent>(content, kMaxContentSize, "message content"));
  if (digest) {
    *parsed.mutable_map_digest() = *digest;
  } else {
    parsed.clear_map_digest();
  }
  return wire::serialize_message(parsed);
}

bool contact_map_is_newer(const wire::ContactMapDigest& digest, const reach::SignedMap* current,
                          const crypto::Ed25519Public& root) {
  if (digest.root().size() != kContactMapRootSize ||
      std::memcmp(digest.root().data(), root.data(), kContactMapRootSize) != 0) {
    return false;  // another network's map: our root would refuse it anyway
  }
  if (digest.hash().size() != kContactMapHashSize || digest.version() == 0) return false;
  return current == nullptr || digest.version() > current->map.version;
}

bool can_answer_map_request(const wire::ContactMapRequest& request, const reach::SignedMap* current) {
  if (current == nullptr) return false;
  if (current->map.version > request.version()) return true;
  return current->map.version == request.version() && hash_matches(request.hash(), current->digest);
}

wire::MessageContent map_request_content(const wire::ContactMapDigest& digest, std::int64_t now_ms) {
  wire::MessageContent content;
  Bytes id = new_message_id();
  content.set_message_id(id.data(), id.size());
  content.set_sent_at_ms(static_cast<std::uint64_t>(now_ms));
  auto* request = content.mutable_map_request();
  request->set_version(digest.version());
  request->set_hash(digest.hash());
  return content;
}

Result<wire::MessageContent> map_reply_content(const reach::SignedMap& map, std::int64_t now_ms) {
  if (map.bytes.size() > kMaxContactMapBytes) {
    return make_error(Errc::limit_exceeded, "network map v" + std::to_string(map.map.version) + " is " +
                                                std::to_string(map.bytes.size()) + " bytes, over the " +
                                                std::to_string(kMaxContactMapBytes) +
                                                "-byte limit for handing it to a contact");
  }
  wire::MessageContent content;
  Bytes id = new_message_id();
  content.set_message_id(id.data(), id.size());
  content.set_sent_at_ms(static_cast<std::uint64_t>(now_ms));
  content.mutable_map_reply()->set_signed_map(std::string(as_chars(map.bytes)));
  return content;
}

Result<const reach::SignedMap*> accept_contact_map(MapKeeper& keeper, AccountStore& store,
                                                   const wire::ContactMapReply& reply,
                                                   std::string_view contact_name) {
  const auto& bytes = reply.signed_map();
  if (bytes.empty()) {
    return make_error(Errc::malformed,
                      "the map reply from contact " + std::string(contact_name) + " is empty");
  }
  if (bytes.size() > kMaxContactMapBytes) {
    return make_error(Errc::malformed, "the map reply from contact " + std::string(contact_name) + " is " +
                                           std::to_string(bytes.size()) + " bytes, over the " +
                                           std::to_string(kMaxContactMapBytes) + "-byte limit");
  }
  return keeper.offer(store, as_bytes(bytes), "contact " + std::string(contact_name));
}

// ---- ledger ------------------------------------------------------------------------------

Result<ContactMapLedger> ContactMapLedger::decode(ByteView bytes) {
  auto malformed = [](std::string what) { return make_error(Errc::malformed, "contact map ledger " + what); };
  if (bytes.size() < kLedgerMagic.size() + 2 ||
      std::memcmp(bytes.data(), kLedgerMagic.data(), kLedgerMagic.size()) != 0) {
    return malformed("has no header");
  }
  std::size_t count = (std::size_t{bytes[kLedgerMagic.size()]} << 8) | bytes[kLedgerMagic.size() + 1];
  ByteView rest = bytes.subspan(kLedgerMagic.size() + 2);
  if (count > kMaxContactMapLedger) return malformed("holds too many entries");
  if (rest.size() != count * kEntrySize) return malformed("is truncated or has trailing bytes");
  ContactMapLedger ledger;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* p = rest.data() + i * kEntrySize;
    Entry entry;
    if (p[0] != static_cast<std::uint8_t>(Kind::asked) && p[0] != static_cast<std::uint8_t>(Kind::answered)) {
      return malformed("has an entry of unknown kind");
    }
    entry.kind = static_cast<Kind>(p[0]);
    std::memcpy(entry.contact.data(), p + 1, 32);
    entry.version = get_u64_be(p + 33);
    std::memcpy(entry.hash.data(), p + 41, kContactMapHashSize);
    entry.at_ms = static_cast<std::int64_t>(get_u64_be(p + 41 + kContactMapHashSize));
    ledger.entries_.push_back(entry);
  }
  return ledger;
}

Bytes ContactMapLedger::encode() const {
  Bytes out(kLedgerMagic.size() + 2 + entries_.size() * kEntrySize);
  std::memcpy(out.data(), kLedgerMagic.data(), kLedgerMagic.size());
  out[kLedgerMagic.size()] = static_cast<std::uint8_t>(entries_.size() >> 8);
  out[kLedgerMagic.size() + 1] = static_cast<std::uint8_t>(entries_.size());
  std::uint8_t* p = out.data() + kLedgerMagic.size() + 2;
  for (const auto& entry : entries_) {
    p[0] = static_cast<std::uint8_t>(entry.kind);
    std::memcpy(p + 1, entry.contact.data(), 32);
    put_u64_be(p + 33, entry.version);
    std::memcpy(p + 41, entry.hash.data(), kContactMapHashSize);
    put_u64_be(p + 41 + kContactMapHashSize, static_cast<std::uint64_t>(entry.at_ms));
    p += kEntrySize;
  }
  return out;
}

bool ContactMapLedger::should_ask(const Ed25519Public& contact, const wire::ContactMapDigest& digest,
                                  std::int64_t now_ms) const {
  auto hash = short_hash(digest.hash());
  for (const auto& entry : entries_) {
    if (entry.kind != Kind::asked || entry.version != digest.version() || entry.hash != hash) continue;
    if (entry.contact == contact) return false;
    if (now_ms - entry.at_ms < kAskAnotherContactAfterMs) return false;
  }
  return true;
}

bool ContactMapLedger::should_answer(const Ed25519Public& contact, const reach::SignedMap& map) const {
  auto hash = short_hash(as_chars(map.digest));
  return std::none_of(entries_.begin(), entries_.end(), [&](const Entry& entry) {
    return entry.kind == Kind::answered && entry.contact == contact && entry.version == map.map.version &&
           entry.hash == hash;
  });
}

void ContactMapLedger::record_asked(const Ed25519Public& contact, const wire::ContactMapDigest& digest,
                                    std::int64_t now_ms) {
  add(Entry{Kind::asked, contact, digest.version(), short_hash(digest.hash()), now_ms});
}

void ContactMapLedger::record_answered(const Ed25519Public& contact, const reach::SignedMap& map,
                                       std::int64_t now_ms) {
  add(Entry{Kind::answered, contact, map.map.version, short_hash(as_chars(map.digest)), now_ms});
}

void ContactMapLedger::add(Entry entry) {
  if (entries_.size() >= kMaxContactMapLedger) entries_.erase(entries_.begin());
  entries_.push_back(entry);
}

Result<ContactMapLedger> load_contact_map_ledger(AccountStore& store) {
  auto bytes = SZ_TRY(store.get(settings::contact_map_ledger));
  if (!bytes) return ContactMapLedger{};
  auto ledger = ContactMapLedger::decode(*bytes);
  if (!ledger.ok()) {
    spdlog::warn("ignoring the stored contact map ledger ({}): contacts may be asked for a map once more",
                 ledger.error().message);
    return ContactMapLedger{};
  }
  return ledger;
}

Status save_contact_map_ledger(AccountStore& store, const ContactMapLedger& ledger) {
  return store.put(settings::contact_map_ledger, ledger.encode());
}

}  // namespace samizdat::client
