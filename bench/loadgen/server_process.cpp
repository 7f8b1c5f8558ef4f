#include "server_process.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace samizdat::loadgen {
namespace fs = std::filesystem;

Result<std::unique_ptr<ServerProcess>> ServerProcess::start(const ServerSettings& settings) {
  if (!fs::exists(settings.binary)) {
    return make_error(Errc::not_found,
                      settings.binary.string() + " not found: build samizdatd first or pass --server-binary");
  }
  auto root = SZ_TRY(testing::TempDir::create("samizdat-loadgen", /*clean_up_on_interrupt=*/true));
  testing::SamizdatdOptions options;
  options.binary = settings.binary;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, settings.listeners); ++i) {
    options.init_args.insert(options.init_args.end(), {"--listen", settings.transport + "://127.0.0.1:0"});
  }
  options.config = settings.config;
  options.log = root / "samizdatd.log";
  options.max_open_files = settings.max_open_files;
  options.clean_up_on_interrupt = true;
  auto server = SZ_TRY(testing::SamizdatdProcess::init(root / "server", options));
  if (server.endpoints().size() != std::max<std::size_t>(1, settings.listeners)) {
    return make_error(Errc::internal, "bootstrap.txt lists " + std::to_string(server.endpoints().size()) +
                                          " endpoints, expected " + std::to_string(settings.listeners));
  }
  SZ_CHECK(server.start({}, std::chrono::seconds(20)));
  std::fprintf(stderr, "samizdat-loadgen: started samizdatd (pid %d) in %s\n", static_cast<int>(server.pid()),
               root.path().c_str());
  return std::unique_ptr<ServerProcess>(new ServerProcess(std::move(root), std::move(server)));
}

std::uint64_t rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  123 kB"
  }
  return 0;
}

namespace {
double stat_cpu_seconds(const fs::path& stat_file) {
  std::ifstream in(stat_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  // Fields after ")": state(3) ... utime is field 14, stime 15 (1-based over the whole line).
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}
}  // namespace

double cpu_seconds(pid_t pid) { return stat_cpu_seconds("/proc/" + std::to_string(pid) + "/stat"); }

std::vector<std::pair<int, double>> thread_cpu_seconds(pid_t pid) {
  std::vector<std::pair<int, double>> out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    out.emplace_back(std::stoi(task.path().filename().string()), stat_cpu_seconds(task.path() / "stat"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t kernel_tcp_memory_bytes() {
  std::ifstream in("/proc/net/sockstat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    auto at = line.find(" mem ");
    if (at == std::string::npos) return 0;
    return std::stoull(line.substr(at + 5)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  return 0;
}

double load_average() {
  double one = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &one) != 1) one = 0;
    std::fclose(f);
  }
  return one;
}

std::string pin_to_cores(unsigned cores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  unsigned available = std::thread::hardware_concurrency();
  unsigned n = std::min(cores, std::max(1u, available));
  for (unsigned c = 0; c < n; ++c) CPU_SET(c, &set);
  ::sched_setaffinity(0, sizeof set, &set);
  return n == 1 ? "0" : "0-" + std::to_string(n - 1);
}

}  // namespace samizdat::loadgen
