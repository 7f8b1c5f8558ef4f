#include "peer_server.hpp"

#include "support/loopback.hpp"

namespace samizdat::peers {

Result<ChildProcess> start_peer_server(std::vector<std::string> argv, std::uint16_t port,
                                       const std::filesystem::path& log, std::chrono::milliseconds within) {
  testing::ChildOptions options;
  options.output = log;
  options.stop_grace = std::chrono::seconds(10);
  options.stop_when_destroyed = true;
  options.clean_up_on_interrupt = true;
  auto child = testing::ChildProcess::start(std::move(argv), options);
  if (!child.ok()) {
    return make_error(child.error().code,
                      child.error().message + ": install the peer servers (scripts/install-deps)");
  }
  if (testing::wait_until_accepts("127.0.0.1", port, within, [&] { return child->running(); })) {
    return std::move(*child);
  }
  if (!child->running()) {
    return make_error(Errc::unavailable, "the server exited at start-up; its log " + log.string() +
                                             " says:\n" + testing::read_text(log));
  }
  return make_error(Errc::timeout, "the server did not accept on 127.0.0.1:" + std::to_string(port) +
                                       " in time; log " + log.string() + ":\n" + testing::read_text(log));
}

Result<std::uint16_t> free_port() {
  const auto port = testing::free_port();
  if (port == 0) return make_error(Errc::io, "cannot bind a loopback port");
  return port;
}

}  // namespace samizdat::peers
