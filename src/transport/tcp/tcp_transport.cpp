#include "transport/tcp/tcp_transport.hpp"

#include "transport/noise/noise_over_stream.hpp"
#include "transport/socket/connect_tcp.hpp"
#include "transport/socket/socket_listener.hpp"
#include "transport/socket/socket_transport.hpp"
#include "transport/stream/sealed_frame_stream.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;

// One connection: the Noise handshake on the bare socket. Everything that fails to
// authenticate ends the same way: nothing is ever sent back and the connection is reset,
// whatever the bytes were (a prober learns nothing from which check failed), at the latest
// when the handshake timeout passes.
asio::awaitable<void> serve(std::shared_ptr<ListenerState> listener, tcp::socket socket) {
  auto stream = std::make_unique<TcpByteStream>(std::move(socket));
  const std::string peer = stream->peer_description();
  auto params = handshake_params_of(*listener);
  Result<ServerHandshakeResult> answered = make_error(Errc::internal, "unreached");
  {
    // Cancel rather than close: the failed handshake then ends like every rejected one.
    TcpByteStream& socket_stream = *stream;
    Deadline deadline(socket_stream.get_executor(), deadline_after(listener->options.handshake_timeout),
                      [&socket_stream] { socket_stream.cancel(); });
    answered = co_await answer_client_hello(socket_stream, params);
    if (!answered.ok()) answered = server_handshake_error(deadline, std::move(answered).error());
  }
  if (!answered.ok()) {
    listener->reject(peer, answered.error());  // counted before the peer can see the reset
    stream->reset();
    co_return;
  }
  listener->accept(make_sealed_frame_stream(std::move(stream), std::move(answered->keys),
                                            answered->client_static, listener->options.padding,
                                            listener->options.max_queued_bytes));
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> tcp_dial(asio::any_io_executor executor,
                                                               const Endpoint& endpoint, DialOptions options,
                                                               DeadlineClock::time_point deadline) {
  SZ_CO_TRY_RESULT(socket, co_await connect_tcp(executor, endpoint, deadline));
  std::unique_ptr<ByteStream> stream = std::make_unique<TcpByteStream>(std::move(socket));
  co_return co_await client_handshake_over(std::move(stream), endpoint, options, deadline);
}

Result<std::unique_ptr<Listener>> tcp_listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                             ListenOptions options) {
  return listen_tcp(std::move(executor), endpoint, std::move(options), serve);
}

}  // namespace

std::shared_ptr<Transport> make_tcp_transport() {
  return make_socket_transport({"tcp", tcp_dial, tcp_listen});
}

}  // namespace samizdat::transport
