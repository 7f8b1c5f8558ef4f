#include "transport/socket/socket_listener.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;

// After a failed accept (out of descriptors and the like) the loop pauses this long, so it
// neither spins nor stops serving.
constexpr std::chrono::milliseconds kAcceptErrorPause{50};

class SocketListener final : public Listener {
 public:
  SocketListener(std::shared_ptr<ListenerState> state, ServeConnection serve)
      : state_(std::move(state)), serve_(std::move(serve)) {}
  ~SocketListener() override { close(); }

  void start(AcceptHandler handler) override {
    state_->handler = std::move(handler);
    asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_, serve_),
                   log_escape("listener: accept loop"));
  }

  void close() override {
    auto state = state_;
    asio::post(state->acceptor.get_executor(), [state] {
      std::error_code ignored;
      state->acceptor.close(ignored);
    });
  }

  const Endpoint& local_endpoint() const override { return state_->endpoint; }
  const ListenerStats& stats() const override { return state_->stats; }

 private:
  static asio::awaitable<void> accept_loop(std::shared_ptr<ListenerState> state, ServeConnection serve) {
    while (state->acceptor.is_open()) {
      auto executor =
          state->options.pick_executor ? state->options.pick_executor() : state->acceptor.get_executor();
      auto [ec, socket] = co_await state->acceptor.async_accept(executor, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) break;
        state->log.warn("accept on " + state->endpoint.to_uri() + " failed: " + ec.message());
        asio::steady_timer pause(state->acceptor.get_executor(), kAcceptErrorPause);
        co_await pause.async_wait(use_tuple);
        continue;
      }
      asio::co_spawn(executor, serve(state, std::move(socket)), log_escape("listener: serve connection"));
    }
  }

  std::shared_ptr<ListenerState> state_;
  ServeConnection serve_;
};

}  // namespace

ListenerState::ListenerState(asio::any_io_executor executor, ListenOptions opts)
    : acceptor(std::move(executor)), options(std::move(opts)) {}

void ListenerState::accept(std::unique_ptr<FrameStream> stream) {
  stats.accepted.fetch_add(1, std::memory_order_relaxed);
  handler(std::move(stream));
}

void ListenerState::reject(std::string_view peer, const Error& error) {
  stats.rejected.fetch_add(1, std::memory_order_relaxed);
  log.warn("rejected connection from " + std::string(peer) + " on " + endpoint.to_uri() + ": " +
           error.describe());
}

Status check_listen_request(const Endpoint& endpoint, const ListenOptions& options) {
  if (!options.server_static)
    return make_error(Errc::invalid_argument, "listen needs the server's static key");
  std::error_code ec;
  (void)asio::ip::make_address(endpoint.host, ec);
  if (ec) {
    return make_error(Errc::invalid_argument,
                      "listen address '" + endpoint.host + "' is not an IP address (use e.g. 127.0.0.1)");
  }
  return {};
}

Result<std::unique_ptr<Listener>> listen_tcp(asio::any_io_executor executor, const Endpoint& endpoint,
                                             ListenOptions options, ServeConnection serve) {
  SZ_CHECK(check_listen_request(endpoint, options));
  std::error_code ec;
  tcp::endpoint bind_to(asio::ip::make_address(endpoint.host, ec), endpoint.port);
  auto state = std::make_shared<ListenerState>(std::move(executor), std::move(options));
  auto fail = [&](std::string_view step) {
    return make_error(
        Errc::network,
        "cannot listen on " + endpoint.to_uri() + ": " + std::string(step) + ": " + ec.message() +
            (ec == asio::error::address_in_use ? " (another program uses this port: pick another)" : ""));
  };
  state->acceptor.open(bind_to.protocol(), ec);
  if (ec) return fail("open");
  state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  state->acceptor.bind(bind_to, ec);
  if (ec) return fail("bind");
  state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  state->endpoint = endpoint;
  state->endpoint.port = state->acceptor.local_endpoint(ec).port();
  state->endpoint.server_static = state->options.server_static->public_key;
  return std::unique_ptr<Listener>(std::make_unique<SocketListener>(std::move(state), std::move(serve)));
}

}  // namespace samizdat::transport
