#include "transport/obfs/obfs_transport.hpp"

#include "crypto/secret.hpp"
#include "transport/obfs/obfs_handshake.hpp"
#include "transport/socket/connect_tcp.hpp"
#include "transport/socket/socket_listener.hpp"
#include "transport/socket/socket_transport.hpp"
#include "transport/stream/sealed_frame_stream.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"

namespace samizdat::transport {
namespace {

using asio::ip::tcp;
using obfs::ObfsSecrets;

// Holds the largest step: a whole popcount-shaped first record, (39 + 2 + 1200) x 4/3.
constexpr std::size_t kMaxHandshakeStep = 2048;

std::uint64_t random_word() {
  std::uint64_t word = 0;
  crypto::fill_random(MutableByteView(reinterpret_cast<std::uint8_t*>(&word), sizeof(word)));
  return word;
}

Error with_step(std::string_view step, Error error) {
  error.message = std::string(step) + ": " + error.message;
  return error;
}

// What an obfs listener adds to the skeleton's state: the endpoint's derived secrets.
struct ObfsEndpoint {
  ObfsSecrets secrets;
  obfs::JunkPolicy junk;
  wire::PaddingPolicy padding;  // of the frames the server sends
};

// Reads the client's two packets and answers. Any failure leaves the connection to
// treat_as_junk, whatever the reason, so a prober cannot tell the checks apart.
asio::awaitable<Status> respond(ListenerState& listener, const ObfsEndpoint& obfs, TcpByteStream& stream,
                                obfs::ServerHandshake& hs) {
  std::array<std::uint8_t, kMaxHandshakeStep> buffer{};
  while (!hs.done()) {
    std::size_t want = hs.wanted();
    if (want > buffer.size() || hs.consumed() + want > obfs.junk.threshold_bytes) {
      co_return make_error(Errc::malformed, "handshake larger than any client's");
    }
    std::span<std::uint8_t> step(buffer.data(), want);
    auto read = co_await read_exact(stream, step);
    if (!read.ok()) co_return with_step("reading the handshake", std::move(read).error());
    SZ_CO_TRY(hs.feed(step));
  }
  // Only fully authenticated handshakes (first record + confirmation) enter the cache,
  // so neither junk nor a replayed first packet on its own can fill or poison it.
  if (listener.replays.check_and_insert(hs.replay_key())) {
    co_return make_error(Errc::replay, "replayed handshake (a prober resending a recorded one)");
  }
  ByteView reply = hs.reply();
  auto sent = co_await stream.write(reply);
  if (!sent.ok()) co_return with_step("sending the handshake reply", std::move(sent).error());
  co_return Status{};
}

// Keeps reading (and discarding) until the endpoint's junk threshold or the connection's
// deadline or the peer's close, whichever comes first.
asio::awaitable<void> treat_as_junk(const ObfsEndpoint& obfs, TcpByteStream& stream, const Deadline& deadline,
                                    std::size_t already) {
  std::array<std::uint8_t, 1024> sink{};
  while (already < obfs.junk.threshold_bytes && !deadline.fired() && stream.is_open()) {
    std::span<std::uint8_t> room(sink.data(), std::min(sink.size(), obfs.junk.threshold_bytes - already));
    auto n = co_await stream.read_some(room);
    if (!n.ok()) break;
    already += *n;
  }
}

// One connection. Everything unauthenticated ends the same way: nothing is ever sent back
// and the connection is reset, after the junk threshold or the connection's deadline.
asio::awaitable<void> serve(std::shared_ptr<ListenerState> listener, std::shared_ptr<ObfsEndpoint> obfs,
                            tcp::socket socket) {
  auto stream = std::make_unique<TcpByteStream>(std::move(socket));
  const std::string peer = stream->peer_description();
  obfs::ServerHandshake hs(obfs->secrets, *listener->options.server_static, listener->endpoint.psk,
                           unix_millis());
  Status outcome;
  {
    // One deadline for the whole handshake, junk or not, drawn per connection.
    TcpByteStream& socket_stream = *stream;
    // Cancel rather than close: the connection then ends like every rejected one.
    Deadline deadline(socket_stream.get_executor(), deadline_after(obfs->junk.deadline(random_word())),
                      [&socket_stream] { socket_stream.cancel(); });
    outcome = co_await respond(*listener, *obfs, socket_stream, hs);
    if (!outcome.ok()) {
      std::size_t consumed = hs.consumed();
      co_await treat_as_junk(*obfs, socket_stream, deadline, consumed);
      if (deadline.fired()) outcome = with_step("the handshake took too long", std::move(outcome).error());
    }
  }
  if (!outcome.ok()) {
    listener->reject(peer, outcome.error());  // counted before the peer can see the reset
    stream->reset();
    co_return;
  }
  auto keys = hs.take_keys();
  if (!keys.ok()) {
    listener->reject(peer, keys.error());
    stream->reset();
    co_return;
  }
  listener->accept(make_sealed_frame_stream(std::move(stream), std::move(*keys), hs.client_static(),
                                            obfs->padding, listener->options.max_queued_bytes));
}

// The client's side of the handshake on a connected stream: two writes, so the first packet
// (what a censor records and replays) does not carry the confirmation the server waits for,
// then the server's reply.
asio::awaitable<Result<crypto::noise::TransportKeys>> client_handshake(TcpByteStream& stream,
                                                                       obfs::ClientHandshake& hs,
                                                                       const Endpoint& endpoint) {
  for (ByteView packet : {hs.first_packet(), hs.second_packet()}) {
    auto sent = co_await stream.write(packet);
    if (!sent.ok())
      co_return with_step("sending the handshake to " + endpoint.to_uri(), std::move(sent).error());
  }
  std::array<std::uint8_t, kMaxHandshakeStep> buffer{};
  while (!hs.done()) {
    std::size_t want = hs.wanted();
    if (want == 0 || want > buffer.size())
      co_return make_error(Errc::protocol, "obfs reply larger than allowed");
    std::span<std::uint8_t> step(buffer.data(), want);
    auto read = co_await read_exact(stream, step);
    if (!read.ok()) {
      co_return make_error(
          Errc::network,
          "the server at " + endpoint.to_uri() +
              " closed the connection during the handshake (wrong server key, PSK or shaping "
              "mode for this endpoint, a clock off by more than 5 minutes, or the connection is "
              "being interfered with)");
    }
    SZ_CO_TRY(hs.feed(step));
  }
  co_return hs.take_keys();
}

asio::awaitable<Result<std::unique_ptr<FrameStream>>> obfs_dial(asio::any_io_executor executor,
                                                                const Endpoint& endpoint, DialOptions options,
                                                                DeadlineClock::time_point deadline) {
  SZ_CO_TRY_RESULT(secrets, obfs::derive_obfs_secrets(endpoint));
  SZ_CO_TRY_RESULT(socket, co_await connect_tcp(executor, endpoint, deadline));
  auto stream = std::make_unique<TcpByteStream>(std::move(socket));
  SZ_CO_TRY_RESULT(hs, obfs::ClientHandshake::start(secrets, endpoint.server_static, endpoint.psk,
                                                    options.client_static.get(), unix_millis()));
  Result<crypto::noise::TransportKeys> keys = make_error(Errc::internal, "unreached");
  {
    Deadline guard(*stream, deadline);
    keys = co_await client_handshake(*stream, hs, endpoint);
    if (guard.fired())
      co_return make_error(Errc::timeout, "the handshake with " + endpoint.to_uri() + " timed out");
  }
  if (!keys.ok()) {
    stream->close();
    co_return std::move(keys).error();
  }
  auto padding =
      options.padding.kind() == wire::PaddingPolicy::Kind::none ? secrets.frame_padding : options.padding;
  co_return make_sealed_frame_stream(std::move(stream), std::move(*keys), endpoint.server_static, padding,
                                     1 << 20);
}

Result<std::unique_ptr<Listener>> obfs_listen(asio::any_io_executor executor, const Endpoint& endpoint,
                                              ListenOptions options) {
  SZ_CHECK(check_listen_request(endpoint, options));
  // The secrets come from the PSK and the server key (not the port, which may be 0 here).
  Endpoint keyed = endpoint;
  keyed.server_static = options.server_static->public_key;
  auto obfs = std::make_shared<ObfsEndpoint>();
  obfs->secrets = SZ_TRY(obfs::derive_obfs_secrets(keyed));
  obfs->junk = obfs->secrets.junk_policy(options.handshake_timeout);
  obfs->padding = options.padding.kind() == wire::PaddingPolicy::Kind::none ? obfs->secrets.frame_padding
                                                                            : options.padding;
  return listen_tcp(std::move(executor), endpoint, std::move(options), serve, std::move(obfs));
}

}  // namespace

std::shared_ptr<Transport> make_obfs_transport() {
  return make_socket_transport({"obfs", obfs_dial, obfs_listen});
}

}  // namespace samizdat::transport
