// Test support for tests/server: runs the real samizdatd binary on a temp directory and
// talks to it with a small client built from the transport and session.proto.
#pragma once

#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/e2e/device_registration.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "reach/bootstrap.hpp"
#include "samizdat/session.pb.h"
#include "support/server_process.hpp"
#include "support/text_file.hpp"
#include "transport/message_channel.hpp"
#include "transport/transport.hpp"
#include "wire/message_codec.hpp"

namespace samizdat::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string samizdatd_path() { return program("samizdatd").string(); }

inline fs::path make_temp_dir(const std::string& name) {
  auto base = fs::temp_directory_path() / ("samizdat-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  return base;
}

// Runs a program to completion; returns its exit code, its stdout and stderr in `output`
// (also written to `log`).
inline int run_program(const std::vector<std::string>& args, std::string& output, const fs::path& log) {
  auto result = run_to_completion(args, std::chrono::seconds(120));
  output = result.out + result.err;
  (void)write_text(log, output);
  if (result.timed_out) throw std::runtime_error(args[0] + " timed out");
  return result.exit_code;
}

// `samizdatd --log-level debug run --dir DIR` on a directory ServerDir made, its output in
// DIR/server-N.log (N counts the runs). SAMIZDATD_WRAPPER (e.g. a script running the binary
// under gdb or valgrind) replaces the binary for `run`, for debugging.
inline std::unique_ptr<ServerProcess> run_server(const fs::path& dir) {
  static int runs = 0;
  SamizdatdOptions options;
  if (const char* wrapper = std::getenv("SAMIZDATD_WRAPPER")) options.run_binary = wrapper;
  options.run_flags = {"--log-level", "debug"};
  options.log = dir / ("server-" + std::to_string(++runs) + ".log");
  return ServerProcess::run_existing(dir, options);
}

// A server directory made by `samizdatd init`, its bootstrap parsed.
struct ServerDir {
  fs::path dir;
  reach::Bootstrap bootstrap;
  transport::Endpoint endpoint;

  static ServerDir create(const std::string& name) {
    ServerDir d;
    d.dir = make_temp_dir(name) / "server";
    auto server = SamizdatdProcess::init(d.dir);
    if (!server.ok()) throw std::runtime_error(server.error().describe());
    auto parsed = reach::parse_bootstrap(server->bootstrap());
    if (!parsed.ok()) throw std::runtime_error(parsed.error().describe());
    d.bootstrap = *parsed;
    d.endpoint = d.bootstrap.endpoints.at(0);
    return d;
  }
};

// An account device: identity, device id, Noise key.
struct Device {
  crypto::Ed25519KeyPair identity = crypto::Ed25519KeyPair::generate();
  std::uint32_t device_id = 1;
  std::shared_ptr<crypto::X25519KeyPair> noise =
      std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  crypto::e2e::MailboxId mailbox() const { return crypto::e2e::mailbox_id(identity.public_key, device_id); }
};

inline std::string str(ByteView bytes) { return std::string(as_chars(bytes)); }

// A blocking session-protocol client (each call runs the client io_context).
class Client {
 public:
  // Retries the dial for a while: the server process may still be starting.
  static std::unique_ptr<Client> connect(const transport::Endpoint& endpoint,
                                         std::shared_ptr<crypto::X25519KeyPair> device_key = nullptr) {
    auto client = std::make_unique<Client>();
    auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      transport::DialOptions options;
      options.client_static = device_key;
      auto stream = client->run(transport::dial(client->io_.get_executor(), endpoint, options));
      if (stream.ok()) {
        client->stream_ = std::move(*stream);
        client->channel_ = std::make_unique<transport::MessageChannel>(*client->stream_, 4 << 20);
        return client;
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error(stream.error().describe());
      std::this_thread::sleep_for(50ms);
    }
  }

  // Sends the request, returns its reply (pushes that arrive meanwhile are kept).
  wire::ServerMessage request(wire::ClientMessage message) {
    message.set_request_id(next_id_++);
    auto sent = run(channel_->write_message(wire::serialize_message(message)));
    if (!sent.ok()) throw std::runtime_error("send failed: " + sent.error().describe());
    for (;;) {
      auto reply = read(10s);
      if (!reply) throw std::runtime_error("no reply to request");
      if (reply->request_id() == message.request_id()) return *reply;
      pushes_.push_back(*reply);
    }
  }

  // The next unsolicited message (push), or nullopt after `timeout`.
  std::optional<wire::ServerMessage> next_push(std::chrono::milliseconds timeout) {
    if (!pushes_.empty()) {
      auto push = pushes_.front();
      pushes_.pop_front();
      return push;
    }
    return read(timeout);
  }

  // Raw access for misbehaviour tests.
  transport::FrameStream& stream() { return *stream_; }
  template <class T>
  T run(asio::awaitable<T> awaitable) {
    std::optional<T> out;
    std::exception_ptr failure;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(awaitable)); },
        [&](std::exception_ptr error) { failure = error; });
    io_.restart();
    io_.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
  }
  // True once the server has closed the connection (waits up to `timeout`).
  bool closed_by_server(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto message = read_raw(200ms);
      if (!message.ok() && message.error().code != Errc::timeout) return true;
    }
    return false;
  }

  wire::ServerMessage register_device(const Device& device) {
    wire::ClientMessage m;
    auto* r = m.mutable_register_device();
    r->set_identity_key(str(device.identity.public_key));
    r->set_device_id(device.device_id);
    r->set_noise_static_key(str(device.noise->public_key));
    r->set_signature(str(
        crypto::e2e::sign_device_registration(device.identity, device.device_id, device.noise->public_key)));
    return request(m);
  }
  wire::ServerMessage upload_prekeys(const Device& device, std::uint32_t first_opk, std::size_t count) {
    wire::ClientMessage m;
    auto* u = m.mutable_upload_prekeys();
    auto spk = crypto::e2e::SignedPreKey::generate(device.identity, 1);
    u->mutable_signed_prekey()->set_id(spk.id);
    u->mutable_signed_prekey()->set_public_key(str(spk.key_pair.public_key));
    u->mutable_signed_prekey()->set_signature(str(spk.signature));
    for (auto& opk : crypto::e2e::generate_one_time_prekeys(first_opk, count)) {
      auto* o = u->add_one_time_prekeys();
      o->set_id(opk.id);
      o->set_public_key(str(opk.key_pair.public_key));
    }
    return request(m);
  }
  wire::ServerMessage send(const std::vector<std::pair<crypto::e2e::MailboxId, Bytes>>& envelopes) {
    wire::ClientMessage m;
    for (const auto& [mailbox, ciphertext] : envelopes) {
      auto* e = m.mutable_send_envelopes()->add_envelopes();
      e->set_mailbox(str(mailbox));
      e->set_ciphertext(str(ciphertext));
    }
    return request(m);
  }
  wire::ServerMessage fetch(std::uint64_t after = 0) {
    wire::ClientMessage m;
    m.mutable_fetch_envelopes()->set_after_id(after);
    return request(m);
  }
  wire::ServerMessage ack(const std::vector<std::uint64_t>& ids) {
    wire::ClientMessage m;
    for (auto id : ids) m.mutable_ack_envelopes()->add_envelope_ids(id);
    return request(m);
  }

 private:
  Result<Bytes> read_raw(std::chrono::milliseconds timeout) {
    using namespace asio::experimental::awaitable_operators;
    return run([](transport::MessageChannel& channel, asio::io_context& io,
                  std::chrono::milliseconds timeout) -> asio::awaitable<Result<Bytes>> {
      asio::steady_timer timer(io, timeout);
      auto result = co_await (channel.read_message() || timer.async_wait(asio::use_awaitable));
      if (result.index() == 1) co_return make_error(Errc::timeout, "nothing arrived");
      co_return std::get<0>(std::move(result));
    }(*channel_, io_, timeout));
  }
  std::optional<wire::ServerMessage> read(std::chrono::milliseconds timeout) {
    auto bytes = read_raw(timeout);
    if (!bytes.ok()) return std::nullopt;
    auto message = wire::parse_message<wire::ServerMessage>(*bytes, 8 << 20, "server message");
    if (!message.ok()) throw std::runtime_error(message.error().describe());
    return *message;
  }

  asio::io_context io_;
  std::unique_ptr<transport::FrameStream> stream_;
  std::unique_ptr<transport::MessageChannel> channel_;
  std::uint64_t next_id_ = 1;
  std::deque<wire::ServerMessage> pushes_;
};

}  // namespace samizdat::testing
