#include "support/server_process.hpp"

#include <gtest/gtest.h>

namespace samizdat::testing {

namespace {
const std::vector<transport::Endpoint> kNoEndpoints;
const std::string kNoBootstrap;
}  // namespace

ServerProcess::ServerProcess(Result<SamizdatdProcess> server, std::filesystem::path dir)
    : dir_(std::move(dir)) {
  EXPECT_TRUE(server.ok()) << server.error().describe();
  if (server.ok()) server_.emplace(std::move(*server));
}

ServerProcess::ServerProcess(std::filesystem::path dir, std::vector<std::string> init_args)
    : ServerProcess(SamizdatdProcess::init(dir, SamizdatdOptions{.init_args = std::move(init_args)}), dir) {}

std::unique_ptr<ServerProcess> ServerProcess::run_existing(std::filesystem::path dir,
                                                           SamizdatdOptions options) {
  std::unique_ptr<ServerProcess> server(
      new ServerProcess(SamizdatdProcess::open(dir, std::move(options)), dir));
  server->start();
  return server;
}

void ServerProcess::start(const std::vector<Listener>& listeners) {
  ASSERT_TRUE(server_.has_value()) << "samizdatd init failed";
  ASSERT_FALSE(server_->running()) << "already running";
  auto started = server_->start(listeners);
  ASSERT_TRUE(started.ok()) << started.error().describe();
}

int ServerProcess::stop(int signal) {
  if (!server_ || !server_->running()) return 0;
  const int code = server_->stop(signal);
  EXPECT_EQ(code, 0) << "samizdatd exit status after signal " << signal << "\n" << log_since_start();
  return code;
}

void ServerProcess::kill() {
  if (server_) server_->kill();
}

bool ServerProcess::running() { return server_ && server_->running(); }

const std::string& ServerProcess::bootstrap() const { return server_ ? server_->bootstrap() : kNoBootstrap; }
std::uint16_t ServerProcess::port() const { return server_ ? server_->port() : 0; }
const std::vector<transport::Endpoint>& ServerProcess::endpoints() const {
  return server_ ? server_->endpoints() : kNoEndpoints;
}
std::string ServerProcess::log() const { return server_ ? server_->log() : ""; }
std::string ServerProcess::log_since_start() const { return server_ ? server_->log_since_start() : ""; }
std::filesystem::path ServerProcess::database_file() const { return server_ ? server_->database_file() : ""; }

}  // namespace samizdat::testing
