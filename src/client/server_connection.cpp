#include "client/server_connection.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <optional>
#include <unordered_map>

#include "transport/message_channel.hpp"
#include "transport/transport.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::client {
namespace {

struct Pending {
  explicit Pending(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  std::optional<Result<wire::ServerMessage>> reply;
};

}  // namespace

struct ServerConnection::State {
  State(std::unique_ptr<transport::FrameStream> s, std::string name)
      : stream(std::move(s)),
        channel(*stream, kMaxServerMessageSize),
        push_timer(stream->get_executor()),
        endpoint_name(std::move(name)) {}

  std::unique_ptr<transport::FrameStream> stream;
  transport::MessageChannel channel;
  std::uint64_t next_request_id = 1;
  std::unordered_map<std::uint64_t, std::shared_ptr<Pending>> pending;
  std::deque<wire::Envelope> pushed;
  asio::steady_timer push_timer;
  bool push_waiting = false;
  std::optional<Error> failure;  // set once the connection is gone
  std::string endpoint_name;

  void fail(Error error) {
    if (failure) return;
    failure = std::move(error);
    stream->close();
    for (auto& [id, p] : pending) {
      p->reply = *failure;
      p->timer.cancel();
    }
    pending.clear();
    push_timer.cancel();
  }
};

namespace {

asio::awaitable<void> read_loop(std::shared_ptr<ServerConnection::State> state) {
  while (!state->failure) {
    auto message = co_await state->channel.read_message();
    if (!message.ok()) {
      state->fail(make_error(Errc::network, "the connection to the server " + state->endpoint_name +
                                                " was lost (" + message.error().message + ")"));
      break;
    }
    auto parsed = wire::parse_message<wire::ServerMessage>(*message, kMaxServerMessageSize, "server message");
    if (!parsed.ok()) {
      state->fail(make_error(Errc::protocol, "the server sent a message this client cannot read (" +
                                                 parsed.error().message + "): is samizdat up to date?"));
      break;
    }
    if (parsed->request_id() == 0) {
      if (parsed->has_envelope_push()) {
        for (auto& envelope : *parsed->mutable_envelope_push()->mutable_envelopes()) {
          state->pushed.push_back(std::move(envelope));
        }
        state->push_timer.cancel();
      }
      continue;  // other unsolicited messages are for newer clients
    }
    auto it = state->pending.find(parsed->request_id());
    if (it == state->pending.end()) continue;  // a reply that came after its caller gave up
    auto pending = std::move(it->second);
    state->pending.erase(it);
    pending->reply = std::move(*parsed);
    pending->timer.cancel();
  }
}

}  // namespace

Errc errc_from_wire(wire::ErrorCode code) {
  switch (code) {
    case wire::ERROR_INVALID_ARGUMENT:
      return Errc::invalid_argument;
    case wire::ERROR_MALFORMED:
      return Errc::malformed;
    case wire::ERROR_AUTH_FAILED:
      return Errc::auth_failed;
    case wire::ERROR_REPLAY:
      return Errc::replay;
    case wire::ERROR_NOT_FOUND:
      return Errc::not_found;
    case wire::ERROR_ALREADY_EXISTS:
      return Errc::already_exists;
    case wire::ERROR_LIMIT_EXCEEDED:
      return Errc::limit_exceeded;
    case wire::ERROR_IO:
      return Errc::io;
    case wire::ERROR_NETWORK:
      return Errc::network;
    case wire::ERROR_TIMEOUT:
      return Errc::timeout;
    case wire::ERROR_STORAGE:
      return Errc::storage;
    case wire::ERROR_PROTOCOL:
      return Errc::protocol;
    case wire::ERROR_UNAVAILABLE:
      return Errc::unavailable;
    case wire::ERROR_NOT_REGISTERED:
      return Errc::auth_failed;
    default:
      return Errc::internal;
  }
}

asio::awaitable<Result<std::unique_ptr<ServerConnection>>> ServerConnection::connect(
    asio::any_io_executor executor, const transport::Endpoint& endpoint,
    std::shared_ptr<const crypto::X25519KeyPair> device_key, std::chrono::milliseconds timeout) {
  transport::DialOptions options;
  options.client_static = std::move(device_key);
  options.timeout = timeout;
  auto stream = co_await transport::dial(executor, endpoint, std::move(options));
  if (!stream.ok()) {
    Error error = std::move(stream).error();
    error.message = "cannot reach the server at " + endpoint.to_uri() + ": " + error.message +
                    " (is it running? check the network, then retry)";
    co_return error;
  }
  auto state = std::make_shared<State>(std::move(*stream), endpoint.to_uri());
  asio::co_spawn(state->stream->get_executor(), read_loop(state), asio::detached);
  co_return std::unique_ptr<ServerConnection>(new ServerConnection(std::move(state)));
}

ServerConnection::~ServerConnection() { close(); }

bool ServerConnection::is_open() const { return !state_->failure; }

void ServerConnection::close() {
  state_->fail(make_error(Errc::unavailable, "the connection to the server was closed"));
}

asio::awaitable<Result<wire::ServerMessage>> ServerConnection::call(wire::ClientMessage request,
                                                                    std::chrono::milliseconds timeout) {
  auto state = state_;  // the connection may be destroyed while we wait
  if (state->failure) co_return *state->failure;
  std::uint64_t id = state->next_request_id++;
  request.set_request_id(id);
  auto pending = std::make_shared<Pending>(state->stream->get_executor());
  pending->timer.expires_after(timeout);
  state->pending.emplace(id, pending);
  Bytes bytes = wire::serialize_message(request);
  if (auto sent = state->channel.send_message(bytes); !sent.ok()) {
    state->pending.erase(id);
    co_return sent.error();
  }
  co_await pending->timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  if (!pending->reply) {
    state->pending.erase(id);
    co_return make_error(Errc::timeout, "the server at " + state->endpoint_name + " did not answer within " +
                                            std::to_string(timeout.count()) + " ms");
  }
  auto reply = std::move(*pending->reply);
  if (reply.ok() && reply->has_error()) {
    co_return make_error(errc_from_wire(reply->error().code()),
                         "the server refused: " + reply->error().message());
  }
  co_return reply;
}

asio::awaitable<Result<std::vector<wire::Envelope>>> ServerConnection::wait_for_push(
    std::chrono::milliseconds timeout) {
  auto state = state_;
  if (state->pushed.empty() && !state->failure && timeout.count() > 0) {
    state->push_timer.expires_after(timeout);
    co_await state->push_timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  if (state->pushed.empty() && state->failure) co_return *state->failure;
  std::vector<wire::Envelope> out(std::make_move_iterator(state->pushed.begin()),
                                  std::make_move_iterator(state->pushed.end()));
  state->pushed.clear();
  co_return out;
}

}  // namespace samizdat::client
