// Loopback ports: is anything listening, which one is free, waiting for a server to listen.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace samizdat::testing {

// True when a TCP connection to host:port (IPv4) is accepted right now.
bool accepts(const std::string& host, std::uint16_t port);

// A port free for both TCP and UDP on 127.0.0.1 a moment ago (the caller's child binds it
// next); 0 when none was found.
std::uint16_t free_port();

// Polls until host:port accepts; false after `within`, or as soon as `still_starting`
// (e.g. "the server has not exited") says false.
bool wait_until_accepts(const std::string& host, std::uint16_t port, std::chrono::milliseconds within,
                        const std::function<bool()>& still_starting = {});

}  // namespace samizdat::testing
