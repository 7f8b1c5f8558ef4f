// A peer's server process (mosquitto, redis-server, nats-server, the epoll relay), run by
// samizdat-peers through the test-support library: output appended to a log file, stopped
// by the SIGINT/SIGTERM cleanup, stopped (SIGTERM, then SIGKILL after 10 s) with the object.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/text_file.hpp"
#include "util/result.hpp"

namespace samizdat::peers {

using testing::ChildProcess;
using testing::write_text;

// Starts argv (argv[0]: full path) and waits until 127.0.0.1:port accepts; the log's text in
// the error when it exits or does not listen in time.
Result<ChildProcess> start_peer_server(std::vector<std::string> argv, std::uint16_t port,
                                       const std::filesystem::path& log,
                                       std::chrono::milliseconds within = std::chrono::seconds(10));

// A port on 127.0.0.1 that was free a moment ago.
Result<std::uint16_t> free_port();

}  // namespace samizdat::peers
