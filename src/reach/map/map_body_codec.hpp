// Conversion between NetworkMap and its protobuf body (proto/samizdat/map.proto), shared by
// the signed form (signed_map.cpp) and the operator's unsigned draft (`samizdatd map`).
#pragma once

#include "reach/map/network_map.hpp"
#include "samizdat/map.pb.h"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

void map_to_wire(const NetworkMap& map, wire::NetworkMapBody& body);
// Checks every field; `complete` also requires a version and issued_at < expires_at (a
// draft has neither yet). Errc::malformed naming the bad field.
Result<NetworkMap> map_from_wire(const wire::NetworkMapBody& body, bool complete);

// The operator's unsigned draft (the next map's content; version = last published).
Bytes encode_map_draft(const NetworkMap& map);
Result<NetworkMap> decode_map_draft(ByteView bytes);

}  // namespace samizdat::reach
