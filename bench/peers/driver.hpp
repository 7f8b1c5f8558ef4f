// The harness side of samizdat-peers: connects the clients of one Peer and runs the
// loadgen's workload over them (same LoadOptions and PairsResult as samizdat-loadgen, same
// payload header — u64be send time in monotonic µs || u64be sequence number — same open-loop
// window / paced schedule with latency from the scheduled send time, same warm-up, measured
// window, drain and percentiles). Clients run on `client_threads` epoll loops.
#pragma once

#include <vector>

#include "../loadgen/load_runs.hpp"
#include "peer.hpp"

namespace samizdat::peers {

struct FlowOptions {
  std::size_t flows = 1000;  // senders
  std::size_t members = 1;   // receivers per sender (1 = pairs, 100 = the fan-out group)
};

// Saturation (open loop) and, if options.latency_at > 0, a paced phase at that fraction of
// the delivered rate. RSS before/after connecting is taken around the client set-up.
// Errors only for set-up failures.
Result<std::vector<loadgen::PairsResult>> run_flows(Peer& peer, const FlowOptions& flows,
                                                    const loadgen::LoadOptions& options);

}  // namespace samizdat::peers
