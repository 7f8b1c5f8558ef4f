// Errc <-> session.proto ErrorCode: the server sends an ErrorReply with the code of its
// failure, the client turns it back into the same Errc. One mapping for both directions.
#pragma once

#include "samizdat/session.pb.h"
#include "util/result.hpp"

namespace samizdat::wire {

// Every Errc has its own code.
ErrorCode to_wire_error(Errc code);

// The inverse of to_wire_error. ERROR_NOT_REGISTERED (in the schema, though the server says
// auth_failed) reads as Errc::auth_failed; ERROR_UNSPECIFIED and codes this build does not
// know (from a newer peer) read as Errc::internal.
Errc errc_from_wire(ErrorCode code);

}  // namespace samizdat::wire
