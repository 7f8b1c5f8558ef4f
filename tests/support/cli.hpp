// The real `samizdat` CLI for one account home, and what two users do with it first: make
// their accounts, add each other, and chat.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "support/run_process.hpp"

namespace samizdat::testing {

class Cli {
 public:
  explicit Cli(std::filesystem::path home) : home_(std::move(home)) {}
  // `samizdat --home HOME -o json --timeout 5 ARGS`.
  ProcessResult operator()(std::vector<std::string> args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(60),
                           const std::string& input = "") const;
  // The invite this account hands out.
  std::string invite() const;
  const std::filesystem::path& home() const { return home_; }

 private:
  std::filesystem::path home_;
};

// `init --bootstrap` for both, then each adds the other ("alice", "bob"). Fatal failures
// (wrap the call in ASSERT_NO_FATAL_FAILURE); `diagnostics` (e.g. the server's log) is shown
// when an init fails.
void init_and_introduce(const Cli& alice, const Cli& bob, const std::string& bootstrap,
                        const std::function<std::string()>& diagnostics = {});

// Alice sends `to_bob`, Bob's recv shows exactly it; Bob answers `to_alice`, Alice's recv
// shows exactly that. Fatal failures, as above.
void expect_chat_both_ways(const Cli& alice, const Cli& bob, const std::string& to_bob,
                           const std::string& to_alice);

}  // namespace samizdat::testing
