#include "transport/relay/relay_dial.hpp"

#include "transport/deadline.hpp"
#include "transport/relay/tunnel_stream.hpp"

namespace samizdat::transport {
namespace {

// Reads the relay's one-frame answer within `timeout` (closing the stream on expiry).
asio::awaitable<Result<Bytes>> read_answer(FrameStream& outer, std::chrono::milliseconds timeout) {
  Deadline deadline(outer, deadline_after(timeout));
  auto answer = co_await outer.read_frame();
  if (!answer.ok() && deadline.fired())
    co_return make_error(Errc::timeout, "the relay did not answer in time");
  co_return answer;
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<FrameStream>>> dial_via_relay(asio::any_io_executor executor,
                                                                     const Endpoint& relay,
                                                                     const Endpoint& upstream,
                                                                     DialOptions options) {
  DialOptions outer_options;  // anonymous: the relay learns no device key
  outer_options.timeout = options.timeout;
  outer_options.padding = options.padding;
  auto outer = co_await dial(executor, relay, outer_options);
  if (!outer.ok()) {
    auto error = std::move(outer).error();
    error.message = "relay " + relay.to_uri() + ": " + error.message;
    co_return error;
  }
  auto sent = (*outer)->send_frame(as_bytes(kRelayConnectRequest));
  if (!sent.ok()) co_return std::move(sent).error();
  auto answer = co_await read_answer(**outer, options.timeout);
  if (!answer.ok()) {
    auto error = std::move(answer).error();
    error.message = "relay " + relay.to_uri() + " did not open a tunnel: " + error.message;
    co_return error;
  }
  if (answer->empty() || (answer->front() != kRelayConnected && answer->front() != kRelayFailed)) {
    (*outer)->close();
    co_return make_error(Errc::protocol,
                         "relay " + relay.to_uri() + " sent an answer this client does not understand");
  }
  if (answer->front() == kRelayFailed) {
    (*outer)->close();
    std::string reason(as_chars(ByteView(*answer).subspan(1)));
    if (reason.size() > 200) reason.resize(200);
    co_return make_error(Errc::unavailable,
                         "relay " + relay.to_uri() + " cannot reach its network: " + reason);
  }
  auto inner = co_await client_handshake_in_tunnel(std::move(*outer), upstream, std::move(options));
  co_return inner;
}

}  // namespace samizdat::transport
