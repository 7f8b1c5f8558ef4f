#include "reach/channels/inband_map.hpp"

namespace samizdat::reach {

bool map_offer_is_newer(const wire::MapOffer& offer, const SignedMap* current) {
  return current == nullptr || offer.version() > current->map.version;
}

wire::MapOffer make_map_offer(const SignedMap& published) {
  wire::MapOffer offer;
  offer.set_version(published.map.version);
  offer.set_digest(std::string(as_chars(published.digest)));
  return offer;
}

Result<Bytes> map_bytes_from_reply(const wire::MapReply& reply) {
  if (reply.signed_map().empty()) return make_error(Errc::malformed, "map reply carries no map");
  if (reply.signed_map().size() > kMaxSignedMapBytes) {
    return make_error(Errc::malformed, "map reply is over " + std::to_string(kMaxSignedMapBytes) + " bytes");
  }
  return to_bytes(as_bytes(reply.signed_map()));
}

}  // namespace samizdat::reach
