#include "support/samizdatd_process.hpp"

#include <regex>

#include "reach/bootstrap.hpp"
#include "support/loopback.hpp"
#include "support/text_file.hpp"

namespace samizdat::testing {

namespace fs = std::filesystem;

fs::path program(const std::string& name) { return fs::path(SAMIZDAT_BINARY_DIR) / "src" / "cli" / name; }

namespace {

// Replaces `key = value` lines of config.toml.
Status adjust_config(const fs::path& file, const std::map<std::string, std::string>& changes) {
  if (changes.empty()) return {};
  auto config = read_text(file);
  for (const auto& [key, value] : changes) {
    std::regex line("(^|\n)" + key + " = [^\n]*");
    if (!std::regex_search(config, line)) {
      return make_error(Errc::internal, "config.toml of this samizdatd has no key '" + key + "'");
    }
    config = std::regex_replace(config, line, "$1" + key + " = " + value);
  }
  return write_text(file, config);
}

}  // namespace

Result<SamizdatdProcess> SamizdatdProcess::init(fs::path dir, SamizdatdOptions options) {
  if (!fs::exists(options.binary)) {
    return make_error(Errc::not_found, options.binary.string() + " not found: build samizdatd first");
  }
  std::vector<std::string> argv = {options.binary.string(), "init", "--dir", dir.string()};
  argv.insert(argv.end(), options.init_args.begin(), options.init_args.end());
  auto init = run_to_completion(argv, std::chrono::seconds(60));
  if (init.exit_code != 0) {
    return make_error(Errc::internal,
                      "`samizdatd init --dir " + dir.string() + "` failed: " + init.out + init.err);
  }
  SZ_CHECK(adjust_config(dir / "config.toml", options.config));
  return open(std::move(dir), std::move(options));
}

Result<SamizdatdProcess> SamizdatdProcess::open(fs::path dir, SamizdatdOptions options) {
  SamizdatdProcess server;
  server.dir_ = std::move(dir);
  server.options_ = std::move(options);
  if (server.options_.log.empty()) server.options_.log = server.dir_ / "samizdatd.log";
  if (server.options_.run_binary.empty()) server.options_.run_binary = server.options_.binary;
  SZ_CHECK(server.read_bootstrap());
  return server;
}

Status SamizdatdProcess::read_bootstrap() {
  bootstrap_ = trim_end(read_text(dir_ / "bootstrap.txt"));
  auto parsed = reach::parse_bootstrap(bootstrap_);
  if (!parsed.ok()) return parsed.error();
  endpoints_ = parsed->endpoints;
  return {};
}

Status SamizdatdProcess::start(const std::vector<Listener>& listeners, std::chrono::milliseconds within) {
  if (process_.running()) return make_error(Errc::internal, "samizdatd is already running");
  std::error_code ec;
  log_start_ = fs::exists(options_.log, ec) ? fs::file_size(options_.log, ec) : 0;
  std::vector<std::string> argv = {options_.run_binary.string()};
  argv.insert(argv.end(), options_.run_flags.begin(), options_.run_flags.end());
  argv.insert(argv.end(), {"run", "--dir", dir_.string()});
  ChildOptions child;
  child.output = options_.log;
  child.max_open_files = options_.max_open_files;
  child.clean_up_on_interrupt = options_.clean_up_on_interrupt;
  auto started = ChildProcess::start(argv, child);
  if (!started.ok()) return started.error();
  process_ = std::move(*started);

  std::vector<Listener> wait_for = listeners;
  if (wait_for.empty()) {
    for (const auto& endpoint : endpoints_) wait_for.emplace_back(endpoint.host, endpoint.port);
  }
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (const auto& [host, port] : wait_for) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (wait_until_accepts(host, port, left, [this] { return process_.running(); })) continue;
    if (!process_.running()) {
      return make_error(Errc::unavailable, "samizdatd exited at start (status " +
                                               std::to_string(process_.exit_code()) +
                                               "): " + log_since_start());
    }
    return make_error(Errc::timeout, "samizdatd did not listen on " + host + ":" + std::to_string(port) +
                                         " within " + std::to_string(within.count() / 1000) +
                                         " s: " + log_since_start());
  }
  return {};
}

int SamizdatdProcess::stop(int signal) { return process_.stop(signal); }

std::string SamizdatdProcess::log() const { return read_text(options_.log); }

std::string SamizdatdProcess::log_since_start() const {
  auto text = log();
  return log_start_ < text.size() ? text.substr(log_start_) : std::string();
}

fs::path SamizdatdProcess::database_file() const {
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().extension() == ".db" || entry.path().extension() == ".sqlite") return entry.path();
  }
  return {};
}

}  // namespace samizdat::testing
