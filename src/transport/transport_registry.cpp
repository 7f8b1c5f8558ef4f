#include "transport/obfs/obfs_transport.hpp"
#include "transport/tcp/tcp_transport.hpp"
#include "transport/tls/tls_transport.hpp"
#include "transport/transport.hpp"
#include "transport/wss/wss_transport.hpp"

namespace samizdat::transport {

TransportRegistry& TransportRegistry::default_registry() {
  // Built-in transports are registered on first use; others call add() at start-up.
  static TransportRegistry* registry = [] {
    auto* r = new TransportRegistry;
    r->add(make_tcp_transport());
    r->add(make_obfs_transport());
    r->add(make_tls_transport());
    r->add(make_wss_transport());
    r->add(make_ws_transport());
    return r;
  }();
  return *registry;
}

void TransportRegistry::add(std::shared_ptr<Transport> transport) {
  for (auto& existing : transports_) {
    if (existing->scheme() == transport->scheme()) {
      existing = std::move(transport);
      return;
    }
  }
  transports_.push_back(std::move(transport));
}

Result<std::shared_ptr<Transport>> TransportRegistry::find(std::string_view scheme) const {
  std::string known;
  for (const auto& transport : transports_) {
    if (transport->scheme() == scheme) return transport;
    known += (known.empty() ? "" : ", ") + std::string(transport->scheme());
  }
  return make_error(Errc::invalid_argument,
                    "unknown transport '" + std::string(scheme) + "' (known: " + known + ")");
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial(asio::any_io_executor executor,
                                                           const Endpoint& endpoint, DialOptions options) {
  auto transport = TransportRegistry::default_registry().find(endpoint.scheme);
  if (!transport.ok()) co_return std::move(transport).error();
  co_return co_await (*transport)->dial(std::move(executor), endpoint, std::move(options));
}

Result<std::unique_ptr<Listener>> listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                         ListenOptions options) {
  auto transport = SZ_TRY(TransportRegistry::default_registry().find(endpoint.scheme));
  return transport->listen(std::move(executor), endpoint, std::move(options));
}

}  // namespace samizdat::transport
