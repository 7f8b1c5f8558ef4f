// A program run to completion by a test: its output, and a test failure if it hangs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace samizdat::testing {

// Runs argv (argv[0]: full path) to completion, feeding `input` on stdin; killed after
// `timeout`, which fails the test.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::string& input = "");

// `sh -c command`: its stdout and its wait status (pclose's). For pipelines and redirections.
struct ShellResult {
  std::string out;
  int status = -1;
};
ShellResult run_shell(const std::string& command);

// run_process execs without a PATH search: the full path of a system tool.
std::string system_tool(const std::string& name);

}  // namespace samizdat::testing
