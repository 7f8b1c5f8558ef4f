// The server end of a relay tunnel (transport/relay/tunnel_stream.hpp): whatever a relay
// forwards after OpenTunnel — here arbitrary bytes cut into outer frame payloads by the
// input itself (u8 length prefixes) — must end in an authenticated stream or a clean
// error with the outer stream closed, never a crash or a hang. The outer stream is an
// in-memory FrameStream (the harness's byte source, not a stand-in for tested code).
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <cstdlib>
#include <deque>

#include "transport/relay/tunnel_stream.hpp"
#include "util/coro.hpp"

using namespace samizdat;

namespace {

class MemoryFrames final : public transport::FrameStream {
 public:
  MemoryFrames(asio::any_io_executor executor, std::deque<Bytes> frames)
      : executor_(std::move(executor)), frames_(std::move(frames)) {}
  asio::awaitable<Result<Bytes>> read_frame() override {
    if (!open_) co_return make_error(Errc::unavailable, "closed");
    if (frames_.empty()) co_return make_error(Errc::network, "connection closed by peer");
    Bytes frame = std::move(frames_.front());
    frames_.pop_front();
    co_return frame;
  }
  asio::awaitable<Status> write_frame(ByteView payload) override { co_return send_frame(payload); }
  Status send_frame(ByteView payload) override {
    if (!open_) return make_error(Errc::unavailable, "closed");
    written_ += payload.size();
    return {};
  }
  asio::awaitable<Status> flush() override { co_return Status{}; }
  std::size_t queued_bytes() const override { return 0; }
  void close() override { open_ = false; }
  bool is_open() const override { return open_; }
  const std::optional<crypto::X25519Public>& peer_static() const override { return none_; }
  ByteView handshake_hash() const override { return {}; }
  std::string peer_description() const override { return "fuzz"; }
  asio::any_io_executor get_executor() override { return executor_; }
  std::size_t max_payload() const override { return 16 * 1024; }
  std::size_t max_queued_bytes() const override { return 1 << 20; }

 private:
  asio::any_io_executor executor_;
  std::deque<Bytes> frames_;
  std::optional<crypto::X25519Public> none_;
  std::size_t written_ = 0;
  bool open_ = true;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto server_static = [] {
    crypto::ensure_initialized();
    return std::make_shared<const crypto::X25519KeyPair>(crypto::X25519KeyPair::from_secret(Bytes(32, 5)));
  }();
  std::deque<Bytes> frames;
  for (std::size_t offset = 0; offset < size;) {
    std::size_t length = std::min<std::size_t>(data[offset], size - offset - 1);
    frames.emplace_back(data + offset + 1, data + offset + 1 + length);
    offset += 1 + length;
  }
  asio::io_context io;
  transport::TunnelServerOptions options;
  options.server_static = server_static;
  options.psks.push_back(transport::Psk{});
  options.handshake_timeout = std::chrono::milliseconds(1000);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto outer = std::make_unique<MemoryFrames>(io.get_executor(), std::move(frames));
        auto inner = co_await transport::server_handshake_in_tunnel(std::move(outer), options);
        if (inner.ok()) {
          // Junk after a valid handshake: frames must fail cleanly too.
          auto frame = co_await (*inner)->read_frame();
          (void)frame;
        } else if (inner.error().message.empty()) {
          std::abort();
        }
        done = true;
      },
      samizdat::log_escape("relay_tunnel_fuzz: a spawned coroutine"));
  io.run();
  if (!done) std::abort();
  return 0;
}
