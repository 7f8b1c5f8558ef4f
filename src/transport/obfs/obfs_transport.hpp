// The obfs transport: TCP whose every byte looks random to anyone without the endpoint
// secret (PSK + server key), with a first packet shaped to pass the GFW's "fully
// encrypted" rules, and a listener that treats everything unauthenticated — junk,
// probes, replays — the same way: it reads up to a per-endpoint number of bytes or until
// a per-connection deadline drawn from a per-endpoint range, sends nothing, and resets.
// Handshake: obfs_handshake.hpp; after it, the tcp transport's frame stream with a
// per-endpoint padding distribution. URI: obfs://HOST:PORT?key=..&psk=..[&shaping=MODE].
#pragma once

#include <memory>

#include "transport/transport.hpp"

namespace samizdat::transport {

std::shared_ptr<Transport> make_obfs_transport();

}  // namespace samizdat::transport
