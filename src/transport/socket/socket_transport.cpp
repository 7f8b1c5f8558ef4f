#include "transport/socket/socket_transport.hpp"

namespace samizdat::transport {
namespace {

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(SocketTransportParts parts) : parts_(std::move(parts)) {}

  std::string_view scheme() const override { return parts_.scheme; }

  // Not a coroutine: it returns the transport's dial coroutine, which the caller awaits
  // while `endpoint` is alive (the contract of Transport::dial).
  asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                             const Endpoint& endpoint,
                                                             DialOptions options) override {
    const auto deadline = deadline_after(options.timeout);
    return parts_.dial(std::move(executor), endpoint, std::move(options), deadline);
  }

  Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                           ListenOptions options) override {
    return parts_.listen(std::move(executor), endpoint, std::move(options));
  }

 private:
  SocketTransportParts parts_;
};

}  // namespace

std::shared_ptr<Transport> make_socket_transport(SocketTransportParts parts) {
  return std::make_shared<SocketTransport>(std::move(parts));
}

}  // namespace samizdat::transport
