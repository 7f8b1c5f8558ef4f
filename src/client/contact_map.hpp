// Network map channel 4, contacts (docs/PROTOCOL.md "Contacts channel"). Every E2E message
// carries a ContactMapDigest of the sender's newest map (version, 8-byte hash, 4-byte root
// tag; inside the encryption, so the server sees nothing). A device whose map is older asks
// that contact once for it (ContactMapRequest, a control message nobody is shown); the
// contact answers with the signed bytes (ContactMapReply), which go through accept_map like
// every other channel's, so a contact can delay a map but never forge one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "client/account_store.hpp"
#include "client/map_keeper.hpp"
#include "reach/map/signed_map.hpp"
#include "samizdat/store.pb.h"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::client {

inline constexpr std::size_t kContactMapHashSize = 8;
inline constexpr std::size_t kContactMapRootSize = 4;
// A reply must fit one sealed envelope (wire::kMaxSealedSize) after ratchet, sealed-sender
// and padding overheads; a bigger map travels by the other channels only.
inline constexpr std::size_t kMaxContactMapBytes = 48 * 1024;
inline constexpr std::size_t kMaxContactMapLedger = 256;
// After asking one contact for a digest, others who advertise the same digest are asked only
// once this long has passed without the map arriving (no request storms from big address books).
inline constexpr std::int64_t kAskAnotherContactAfterMs = 10 * 60 * 1000;

// What this device advertises: nullopt without a map.
std::optional<wire::ContactMapDigest> contact_map_digest(const reach::SignedMap* current,
                                                         const crypto::Ed25519Public& root);

// Serialized MessageContent with map_digest set to `digest` (cleared for nullopt).
// Errc::malformed if `content` is not a MessageContent.
Result<Bytes> attach_map_digest(ByteView content, const std::optional<wire::ContactMapDigest>& digest);

// A digest that names a map of our network (root tag) newer than `current`.
bool contact_map_is_newer(const wire::ContactMapDigest& digest, const reach::SignedMap* current,
                          const crypto::Ed25519Public& root);

// Whether `current` is what `request` asks for or newer (then we can answer with it).
bool can_answer_map_request(const wire::ContactMapRequest& request, const reach::SignedMap* current);

wire::MessageContent map_request_content(const wire::ContactMapDigest& digest, std::int64_t now_ms);
// Errc::limit_exceeded when the map is over kMaxContactMapBytes.
Result<wire::MessageContent> map_reply_content(const reach::SignedMap& map, std::int64_t now_ms);

// A contact's reply through the same checks as every channel (MapKeeper::offer: root,
// certificate, signature, version, expiry), logged as "network map vN accepted from contact
// NAME". Errc::malformed for an empty or oversized reply; the accept_map errors otherwise.
Result<const reach::SignedMap*> accept_contact_map(MapKeeper& keeper, AccountStore& store,
                                                   const wire::ContactMapReply& reply,
                                                   std::string_view contact_name);

// What one incoming message said about maps (its digest, or a map request/reply body);
// the client acts on these after the message's batch is committed.
struct ContactMapEvent {
  Ed25519Public contact{};
  DeviceId device = 1;
  wire::MessageContent content;
};

// Which (contact, map) pairs this device already asked for or answered, persisted in the
// account database so one-shot commands do not ask again. Bounded: the oldest entries go.
class ContactMapLedger {
 public:
  enum class Kind : std::uint8_t { asked = 1, answered = 2 };
  struct Entry {
    Kind kind = Kind::asked;
    Ed25519Public contact{};
    std::uint64_t version = 0;
    std::array<std::uint8_t, kContactMapHashSize> hash{};
    std::int64_t at_ms = 0;
  };

  // Errc::malformed for anything that encode() did not write.
  static Result<ContactMapLedger> decode(ByteView bytes);
  Bytes encode() const;

  // Never twice for the same contact and digest; not while another contact was asked for the
  // same digest less than kAskAnotherContactAfterMs ago.
  bool should_ask(const Ed25519Public& contact, const wire::ContactMapDigest& digest,
                  std::int64_t now_ms) const;
  // Once per contact per map we hold: a contact repeating a request gets no second copy.
  bool should_answer(const Ed25519Public& contact, const reach::SignedMap& map) const;
  void record_asked(const Ed25519Public& contact, const wire::ContactMapDigest& digest, std::int64_t now_ms);
  void record_answered(const Ed25519Public& contact, const reach::SignedMap& map, std::int64_t now_ms);

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  void add(Entry entry);
  std::vector<Entry> entries_;
};

// A damaged ledger is logged and replaced by an empty one (at worst one extra request per contact).
Result<ContactMapLedger> load_contact_map_ledger(AccountStore& store);
Status save_contact_map_ledger(AccountStore& store, const ContactMapLedger& ledger);

}  // namespace samizdat::client
