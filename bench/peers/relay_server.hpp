// The physical-limit peer: a minimal single-threaded epoll relay (no crypto, no storage,
// no acknowledgements). A client's first 4 bytes are its u32be id; then frames
// u32be length (of what follows) || u32be destination id || payload, each forwarded
// unchanged to the connection that announced the destination id (dropped if none).
#pragma once

#include <cstdint>

namespace samizdat::peers {

constexpr std::uint32_t kRelayMaxFrame = 1 << 20;

// Serves 127.0.0.1:port until SIGTERM; returns the process exit code.
int run_relay_server(std::uint16_t port);

}  // namespace samizdat::peers
