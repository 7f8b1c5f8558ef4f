// The epoll relay (relay_server.hpp) as a peer: started as `samizdat-peers --relay-server
// PORT` (this same binary), clients speak its frames over plain sockets.
#include <unistd.h>

#include <cerrno>

#include "peer.hpp"
#include "peer_server.hpp"
#include "relay_server.hpp"
#include "socket_client.hpp"

namespace samizdat::peers {
namespace {

class RelayClient : public PeerClient {
 public:
  explicit RelayClient(int fd) : fd_(fd) {}
  ~RelayClient() override {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const override { return fd_; }
  bool wants_write() const override { return !out_.empty(); }
  bool is_open() const override { return open_; }
  void handle_write() override {
    if (!out_.flush(fd_)) open_ = false;
  }
  void handle_read() override {
    std::uint8_t buf[65536];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      open_ = false;
      return;
    }
    if (n < 0) return;
    in_.insert(in_.end(), buf, buf + n);
    std::size_t pos = 0;
    while (in_.size() - pos >= 8) {
      std::uint32_t len = get_u32_be(in_.data() + pos);
      if (in_.size() - pos < 4 + static_cast<std::size_t>(len)) break;
      if (on_message) on_message(ByteView(in_.data() + pos + 8, len - 4));
      pos += 4 + len;
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  Status publish(std::uint32_t channel, ByteView payload) override {
    if (payload.size() + 4 > kRelayMaxFrame) return make_error(Errc::limit_exceeded, "payload too large");
    std::uint8_t header[8];
    put_u32_be(header, static_cast<std::uint32_t>(payload.size() + 4));
    put_u32_be(header + 4, channel);
    out_.append(ByteView(header, 8));
    out_.append(payload);
    if (!out_.flush(fd_)) open_ = false;
    return {};
  }
  void hello(std::uint32_t id) {
    std::uint8_t b[4];
    put_u32_be(b, id);
    out_.append(ByteView(b, 4));
    out_.flush(fd_);
  }

 private:
  int fd_;
  bool open_ = true;
  Bytes in_;
  WriteBuffer out_;
};

class RelayPeer : public Peer {
 public:
  std::string name() const override { return "epoll-relay"; }
  bool acks() const override { return false; }
  bool has_groups() const override { return false; }
  std::string guarantee() const override { return "none: in memory, no acks, no crypto"; }
  pid_t pid() const override { return child_.pid(); }
  std::string config_text() const override { return "(no config: `samizdat-peers --relay-server PORT`)"; }
  Status start(const std::filesystem::path& dir) override {
    port_ = SZ_TRY(free_port());
    log_ = dir / "relay.log";
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return make_error(Errc::io, "cannot find /proc/self/exe");
    self[n] = 0;
    child_ = SZ_TRY(start_peer_server({self, "--relay-server", std::to_string(port_)}, port_, log_));
    return {};
  }
  void stop() override { child_.stop(); }
  Result<std::unique_ptr<PeerClient>> connect(const ClientSpec& spec) override {
    int fd = SZ_TRY(connect_loopback(port_));
    auto client = std::make_unique<RelayClient>(fd);
    client->hello(spec.own_id);
    return std::unique_ptr<PeerClient>(std::move(client));
  }

 private:
  ChildProcess child_;
  std::uint16_t port_ = 0;
  std::filesystem::path log_;
};

}  // namespace

std::unique_ptr<Peer> make_relay_peer() { return std::make_unique<RelayPeer>(); }

}  // namespace samizdat::peers
