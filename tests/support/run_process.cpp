#include "support/run_process.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

namespace samizdat::testing {

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::string& input) {
  auto result = run_to_completion(argv, timeout, input);
  if (result.timed_out) ADD_FAILURE() << "timed out: " << argv[0] << " " << (argv.size() > 3 ? argv[3] : "");
  return result;
}

ShellResult run_shell(const std::string& command) {
  ShellResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) result.out.append(buffer, n);
  result.status = ::pclose(pipe);
  return result;
}

std::string system_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    if (std::filesystem::exists(std::string(dir) + name)) return std::string(dir) + name;
  }
  return name;
}

}  // namespace samizdat::testing
