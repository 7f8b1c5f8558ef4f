// Channel 1: the map in-band. On every session the server pushes
//   ServerMessage{request_id = 0, map_offer = MapOffer{version, digest}}
// (messages in proto/samizdat/map.proto, fields in session.proto) right after the connection is up, when it
// has a published map. A client whose map is older sends ClientMessage{get_map = GetMap{}} and receives
// ServerMessage{map_reply = MapReply{signed_map}} (the signed map bytes, which it passes to
// accept_map). Servers without a map never offer and answer GetMap with ERROR_NOT_FOUND.
#pragma once

#include <cstdint>

#include "reach/map/signed_map.hpp"
#include "samizdat/map.pb.h"
#include "util/result.hpp"

namespace samizdat::reach {

// True when the offer names a newer version than `current` (or there is no current map):
// the client should send GetMap.
bool map_offer_is_newer(const wire::MapOffer& offer, const SignedMap* current);

// The offer a server pushes for its published map.
wire::MapOffer make_map_offer(const SignedMap& published);

// Candidate map bytes from a MapReply. Errc::malformed if empty or over kMaxSignedMapBytes.
Result<Bytes> map_bytes_from_reply(const wire::MapReply& reply);

}  // namespace samizdat::reach
