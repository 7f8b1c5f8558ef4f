#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "reach/bootstrap.hpp"

namespace samizdat::loadgen {
namespace fs = std::filesystem;
namespace {

// Children to kill and directories to remove if we are interrupted. The signal handler
// only wakes cleanup_on_signal() through a pipe: the cleanup (waitpid with sleeps,
// remove_all) allocates, which is not async-signal-safe (TSan reported it), so it runs on
// its own thread under the lock.
std::mutex g_mutex;
std::vector<pid_t> g_children;
std::vector<fs::path> g_dirs;

void register_cleanup(pid_t pid, const fs::path& dir) {
  std::lock_guard lock(g_mutex);
  if (pid > 0) g_children.push_back(pid);
  if (!dir.empty()) g_dirs.push_back(dir);
}

void unregister_cleanup(pid_t pid, const fs::path& dir) {
  std::lock_guard lock(g_mutex);
  std::erase(g_children, pid);
  std::erase(g_dirs, dir);
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::io, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Status write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) return make_error(Errc::io, "cannot write " + path.string());
  return {};
}

// Runs `argv` to completion (for `samizdatd init`); its stdout/stderr go to `log`.
Status run_to_completion(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid < 0) return make_error(Errc::io, "fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(Errc::internal, "`" + args[0] + " " + args[1] + "` failed; see " + log.string());
  }
  return {};
}

bool port_accepts(const transport::Endpoint& endpoint) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::error_code ec;
  socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address(endpoint.host), endpoint.port), ec);
  // A bare connect with no handshake is rejected by the server (one log line); harmless.
  if (!ec) {
    socket.set_option(asio::socket_base::linger(true, 0), ec);
    socket.close(ec);
    return true;
  }
  return false;
}

int g_signal_pipe[2] = {-1, -1};

void handle_signal(int signal_number) {
  // write() is async-signal-safe; everything else happens in cleanup_on_signal().
  const char byte = static_cast<char>(signal_number);
  [[maybe_unused]] auto written = ::write(g_signal_pipe[1], &byte, 1);
}

// Best effort, then exit: the server gets SIGTERM (it also has a parent-death signal).
void cleanup_on_signal() {
  char byte = 0;
  while (::read(g_signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(g_mutex);
  for (pid_t pid : g_children) ::kill(pid, SIGTERM);
  for (pid_t pid : g_children) {
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) != 0) break;
      ::usleep(50'000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  for (const auto& dir : g_dirs) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  ::_exit(130);
}

}  // namespace

void register_cleanup_target(pid_t pid, const fs::path& dir) { register_cleanup(pid, dir); }
void unregister_cleanup_target(pid_t pid, const fs::path& dir) { unregister_cleanup(pid, dir); }

void install_cleanup_on_signal() {
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::thread(cleanup_on_signal).detach();
  struct sigaction action {};
  action.sa_handler = handle_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::start(const ServerSettings& settings) {
  if (!fs::exists(settings.binary)) {
    return make_error(Errc::not_found,
                      settings.binary.string() + " not found: build samizdatd first or pass --server-binary");
  }
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  std::string pattern = (fs::temp_directory_path() / "samizdat-loadgen-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return make_error(Errc::io, "cannot create a temp directory");
  server->root_ = pattern;
  register_cleanup(-1, server->root_);
  server->dir_ = server->root_ / "server";
  auto log = server->root_ / "samizdatd.log";

  std::vector<std::string> init = {
      settings.binary.string(), "init",     "--dir",
      server->dir_.string(),    "--listen", settings.transport + "://127.0.0.1:0"};
  for (std::size_t i = 1; i < settings.listeners; ++i) {
    init.push_back("--listen");
    init.push_back(settings.transport + "://127.0.0.1:0");
  }
  SZ_CHECK(run_to_completion(init, log));

  // Adjust config.toml: replace `key = value` lines.
  auto config_path = server->dir_ / "config.toml";
  auto config = SZ_TRY(read_file(config_path));
  for (const auto& [key, value] : settings.config) {
    std::regex line("(^|\n)" + key + " = [^\n]*");
    if (!std::regex_search(config, line)) {
      return make_error(Errc::internal, "config.toml of this samizdatd has no key '" + key + "'");
    }
    config = std::regex_replace(config, line, "$1" + key + " = " + value);
  }
  SZ_CHECK(write_file(config_path, config));

  auto bootstrap_text = SZ_TRY(read_file(server->dir_ / "bootstrap.txt"));
  while (!bootstrap_text.empty() && std::isspace(static_cast<unsigned char>(bootstrap_text.back())))
    bootstrap_text.pop_back();
  auto bootstrap = SZ_TRY(reach::parse_bootstrap(bootstrap_text));
  server->endpoints_ = bootstrap.endpoints;
  if (server->endpoints_.size() != std::max<std::size_t>(1, settings.listeners)) {
    return make_error(Errc::internal, "bootstrap.txt lists " + std::to_string(server->endpoints_.size()) +
                                          " endpoints, expected " + std::to_string(settings.listeners));
  }

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(Errc::io, "fork failed");
  if (pid == 0) {
    // The child: enough descriptors for every connection; dies with us.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    struct rlimit limit {
      settings.max_open_files, settings.max_open_files
    };
    ::setrlimit(RLIMIT_NOFILE, &limit);
    FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      ::dup2(fileno(out), 1);
      ::dup2(fileno(out), 2);
    }
    std::string binary = settings.binary.string();
    std::string dir = server->dir_.string();
    const char* argv[] = {binary.c_str(), "run", "--dir", dir.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  server->pid_ = pid;
  register_cleanup(pid, {});
  std::fprintf(stderr, "samizdat-loadgen: started samizdatd (pid %d) in %s\n", static_cast<int>(pid),
               server->root_.c_str());

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!port_accepts(server->endpoints_.back())) {
    if (!server->alive()) {
      return make_error(Errc::unavailable, "samizdatd exited at start-up; see " + log.string());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::timeout, "samizdatd did not listen within 20 s; see " + log.string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return server;
}

bool ServerProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    unregister_cleanup(pid_, {});
    pid_ = -1;
    return false;
  }
  return r == 0;
}

void ServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      unregister_cleanup(pid_, {});
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  unregister_cleanup(pid_, {});
  pid_ = -1;
}

ServerProcess::~ServerProcess() {
  stop();
  if (!root_.empty()) {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
    unregister_cleanup(-1, root_);
  }
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

}  // namespace samizdat::loadgen
