// Shared by the integration tests: temporary directories, real samizdatd processes on
// loopback ports, running the real `samizdat` CLI, and driving the client library
// in-process on an io_context.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.hpp"
#include "client/network_config.hpp"
#include "support/fork_child.hpp"
#include "util/coro.hpp"

namespace samizdat::integration {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// True when a TCP connection to host:port (IPv4) is accepted right now.
inline bool accepts(const std::string& host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

inline fs::path program(const std::string& name) {
  return fs::path(SAMIZDAT_BINARY_DIR) / "src" / "cli" / name;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "samizdat-it-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;

  std::vector<nlohmann::json> json_lines() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
    }
    return lines;
  }
};

// Runs argv to completion (killed after `timeout`), feeding `input` on stdin.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout = 60s, const std::string& input = "") {
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(in_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  const samizdat::testing::Argv args(argv);
  pid_t pid = samizdat::testing::fork_child();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(args.path(), args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(in_pipe[0]);
  if (!input.empty()) (void)!::write(in_pipe[1], input.data(), input.size());
  ::close(in_pipe[1]);
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[4096];
  while (open_fds > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "timed out: " << argv[0] << " " << (argv.size() > 3 ? argv[3] : "");
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0) break;
    for (auto& fd : fds) {
      if (fd.fd < 0 || fd.revents == 0) continue;
      ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(fd.fd);
        fd.fd = -1;
        --open_fds;
        continue;
      }
      (fd.fd == out_pipe[0] ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A samizdatd in its own directory: init once, then start/stop/kill as often as needed.
class ServerProcess {
 public:
  // init_args are appended to `samizdatd init` (e.g. {"--listen", "obfs://127.0.0.1:0"}).
  explicit ServerProcess(fs::path dir, std::vector<std::string> init_args = {}) : dir_(std::move(dir)) {
    std::vector<std::string> command = {program("samizdatd").string(), "init", "--dir", dir_.string()};
    command.insert(command.end(), init_args.begin(), init_args.end());
    auto init = run_process(command);
    EXPECT_EQ(init.exit_code, 0) << init.err;
    bootstrap_ = read_file(dir_ / "bootstrap.txt");
    while (!bootstrap_.empty() && std::isspace(static_cast<unsigned char>(bootstrap_.back())))
      bootstrap_.pop_back();
    auto network = client::parse_network_config(bootstrap_);
    EXPECT_TRUE(network.ok()) << (network.ok() ? "" : network.error().describe());
    if (network.ok() && !network->endpoints.empty()) port_ = network->endpoints.front().port;
  }
  ~ServerProcess() {
    if (pid_ > 0) kill();
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `samizdatd run` and waits until it accepts connections.
  void start() {
    ASSERT_LT(pid_, 0) << "already running";
    fs::path log = dir_ / "samizdatd.log";
    const std::string path = program("samizdatd").string();
    const std::string dir = dir_.string();
    pid_ = samizdat::testing::fork_child();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(path.c_str(), path.c_str(), "run", "--dir", dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "samizdatd exited at start: " << read_file(log);
      }
      if (port_accepts()) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "samizdatd did not start listening within 30 s: " << read_file(log);
  }

  // SIGTERM: a clean shutdown must exit 0.
  void stop() {
    if (pid_ < 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        FAIL() << "samizdatd did not stop within 30 s of SIGTERM";
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "samizdatd exit status " << status;
  }

  // SIGKILL: a crash.
  void kill() {
    if (pid_ < 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  bool running() const { return pid_ > 0; }
  const std::string& bootstrap() const { return bootstrap_; }
  std::uint16_t port() const { return port_; }
  const fs::path& dir() const { return dir_; }
  std::string log() const { return read_file(dir_ / "samizdatd.log"); }

  // The server's SQLite database (the one .db file in its directory).
  fs::path database_file() const {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".db" || entry.path().extension() == ".sqlite") return entry.path();
    }
    return {};
  }

 private:
  bool port_accepts() const { return accepts("127.0.0.1", port_); }

  fs::path dir_;
  std::string bootstrap_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// The real CLI for one account home.
class Cli {
 public:
  explicit Cli(fs::path home) : home_(std::move(home)) {}
  ProcessResult operator()(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s,
                           const std::string& input = "") const {
    std::vector<std::string> argv{
        program("samizdat").string(), "--home", home_.string(), "-o", "json", "--timeout", "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, timeout, input);
  }
  // The invite this account hands out.
  std::string invite() const {
    auto result = (*this)({"invite"});
    auto lines = result.json_lines();
    return lines.empty() ? "" : lines.front()["invite"].get<std::string>();
  }
  const fs::path& home() const { return home_; }

 private:
  fs::path home_;
};

// Runs one awaitable to completion on `io` (which must not be running elsewhere).
template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await std::move(task));
        io.stop();  // open connections keep the io_context busy; the next run_on resumes them
      },
      samizdat::log_escape("integration_support: a spawned coroutine"));
  io.restart();
  io.run();
  return std::move(*out);
}

// Every blob and text value in the tables of an SQLite file whose name matches `table_filter`
// (empty: all tables), concatenated. Used to check what the server stores.
inline std::string dump_tables(const fs::path& file, const std::string& table_filter = "") {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
    sqlite3_close(db);
    return out;
  }
  std::vector<std::string> tables;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (table_filter.empty() || name.find(table_filter) != std::string::npos) tables.push_back(name);
  }
  sqlite3_finalize(stmt);
  for (const auto& table : tables) {
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + table + "\"").c_str(), -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const void* data = sqlite3_column_blob(stmt, i);
        int size = sqlite3_column_bytes(stmt, i);
        if (data != nullptr && size > 0)
          out.append(static_cast<const char*>(data), static_cast<std::size_t>(size));
        out.push_back('\0');
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

inline std::string as_string(ByteView bytes) { return std::string(as_chars(bytes)); }

}  // namespace samizdat::integration

namespace samizdat::integration {

inline client::ClientOptions in_process_options(const fs::path& home, std::size_t one_time_prekeys = 20) {
  client::ClientOptions options;
  options.home = home;
  options.timeout = 10s;
  // Many accounts on one disk: crash-safe (WAL) but without an fsync per commit.
  options.durability = client::Durability::normal;
  options.one_time_prekeys = one_time_prekeys;
  return options;
}

// init on a fresh home; fails the test if it does not work.
inline std::unique_ptr<client::Client> make_client(asio::io_context& io, const fs::path& home,
                                                   const std::string& bootstrap,
                                                   std::size_t one_time_prekeys = 20) {
  auto client = run_on(
      io, client::Client::init(io.get_executor(), in_process_options(home, one_time_prekeys), bootstrap));
  EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error().describe());
  return client.ok() ? std::move(*client) : nullptr;
}

// Incoming messages stored for `contact`, oldest first.
inline std::vector<client::MessageRecord> incoming(client::Client& c, const std::string& contact) {
  std::vector<client::MessageRecord> out;
  auto history = c.history(contact, 100000);
  EXPECT_TRUE(history.ok());
  if (!history.ok()) return out;
  for (auto& m : *history) {
    if (m.direction == client::Direction::incoming) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace samizdat::integration
