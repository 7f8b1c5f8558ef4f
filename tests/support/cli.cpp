#include "support/cli.hpp"

#include <gtest/gtest.h>

#include "support/samizdatd_process.hpp"

namespace samizdat::testing {

ProcessResult Cli::operator()(std::vector<std::string> args, std::chrono::milliseconds timeout,
                              const std::string& input) const {
  std::vector<std::string> argv{
      program("samizdat").string(), "--home", home_.string(), "-o", "json", "--timeout", "5"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout, input);
}

std::string Cli::invite() const {
  auto lines = (*this)({"invite"}).json_lines();
  return lines.empty() ? "" : lines.front()["invite"].get<std::string>();
}

void init_and_introduce(const Cli& alice, const Cli& bob, const std::string& bootstrap,
                        const std::function<std::string()>& diagnostics) {
  for (const auto* user : {&alice, &bob}) {
    auto init = (*user)({"init", "--bootstrap", bootstrap});
    ASSERT_EQ(init.exit_code, 0) << init.err << "\n" << (diagnostics ? diagnostics() : "");
  }
  ASSERT_EQ(alice({"contact", "add", "bob", bob.invite()}).exit_code, 0);
  ASSERT_EQ(bob({"contact", "add", "alice", alice.invite()}).exit_code, 0);
}

void expect_chat_both_ways(const Cli& alice, const Cli& bob, const std::string& to_bob,
                           const std::string& to_alice) {
  ASSERT_EQ(alice({"send", "bob", to_bob}).exit_code, 0);
  auto at_bob = bob({"recv"}).json_lines();
  ASSERT_EQ(at_bob.size(), 1u);
  EXPECT_EQ(at_bob[0]["text"], to_bob);

  ASSERT_EQ(bob({"send", "alice", to_alice}).exit_code, 0);
  auto at_alice = alice({"recv"}).json_lines();
  ASSERT_EQ(at_alice.size(), 1u);
  EXPECT_EQ(at_alice[0]["text"], to_alice);
}

}  // namespace samizdat::testing
