// Redis pub/sub (Debian's redis-server and hiredis' async API on the harness's loop):
// pair i's receiver SUBSCRIBEs to "p:i", its sender PUBLISHes there; the PUBLISH reply
// (number of receivers) is the acknowledgement.
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "peer.hpp"
#include "peer_server.hpp"
#include "pump.hpp"

namespace samizdat::peers {
namespace {

class RedisClient : public PeerClient {
 public:
  ~RedisClient() override {
    if (ac_ != nullptr) {
      ac_->data = nullptr;
      redisAsyncFree(ac_);
    }
  }

  Status connect(std::uint16_t port) {
    ac_ = redisAsyncConnect("127.0.0.1", port);
    if (ac_ == nullptr) return make_error(Errc::network, "redisAsyncConnect failed");
    if (ac_->err) return make_error(Errc::network, std::string("redis: ") + ac_->errstr);
    ac_->data = this;
    // The adapter: hiredis says when it wants to write; the harness always reads.
    ac_->ev.data = this;
    ac_->ev.addRead = [](void*) {};
    ac_->ev.delRead = [](void*) {};
    ac_->ev.addWrite = [](void* self) { static_cast<RedisClient*>(self)->writing_ = true; };
    ac_->ev.delWrite = [](void* self) { static_cast<RedisClient*>(self)->writing_ = false; };
    ac_->ev.cleanup = [](void* self) { static_cast<RedisClient*>(self)->writing_ = false; };
    redisAsyncSetConnectCallback(ac_, [](const redisAsyncContext* ac, int status) {
      if (auto* self = static_cast<RedisClient*>(ac->data)) self->connected_ = status == REDIS_OK ? 1 : -1;
    });
    redisAsyncSetDisconnectCallback(ac_, [](const redisAsyncContext* ac, int) {
      if (auto* self = static_cast<RedisClient*>(ac->data)) {
        self->open_ = false;
        self->ac_ = nullptr;  // hiredis frees it after this callback
      }
    });
    fd_ = ac_->c.fd;
    writing_ = true;  // the non-blocking connect completes on writability
    SZ_CHECK(pump_until(
        *this, [this] { return connected_ != 0; }, "connection"));
    if (connected_ < 0) return make_error(Errc::network, "redis connection failed");
    return {};
  }

  Status subscribe(std::uint32_t channel) {
    subscribed_ = false;
    int rc = redisAsyncCommand(
        ac_,
        [](redisAsyncContext*, void* r, void* self_ptr) {
          auto* self = static_cast<RedisClient*>(self_ptr);
          auto* reply = static_cast<redisReply*>(r);
          if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
          std::string kind(reply->element[0]->str, reply->element[0]->len);
          if (kind == "subscribe") {
            self->subscribed_ = true;
          } else if (kind == "message" && self->on_message) {
            auto* payload = reply->element[2];
            self->on_message(ByteView(reinterpret_cast<const std::uint8_t*>(payload->str), payload->len));
          }
        },
        this, "SUBSCRIBE p:%u", channel);
    if (rc != REDIS_OK) return make_error(Errc::network, "SUBSCRIBE could not be queued");
    return pump_until(
        *this, [this] { return subscribed_; }, "SUBSCRIBE confirmation");
  }

  int fd() const override { return fd_; }
  bool wants_write() const override { return ac_ != nullptr && writing_; }
  bool is_open() const override { return open_ && ac_ != nullptr; }
  void handle_read() override {
    if (ac_ != nullptr) redisAsyncHandleRead(ac_);
  }
  void handle_write() override {
    if (ac_ != nullptr) redisAsyncHandleWrite(ac_);
  }
  Status publish(std::uint32_t channel, ByteView payload) override {
    if (ac_ == nullptr) return make_error(Errc::network, "redis connection closed");
    int rc = redisAsyncCommand(
        ac_,
        [](redisAsyncContext*, void* r, void* self_ptr) {
          auto* self = static_cast<RedisClient*>(self_ptr);
          auto* reply = static_cast<redisReply*>(r);
          // PUBLISH answers the number of subscribers that got it: 1 for a pair.
          bool ok = reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
          if (self->on_ack) self->on_ack(ok);
        },
        this, "PUBLISH p:%u %b", channel, payload.data(), payload.size());
    if (rc != REDIS_OK) return make_error(Errc::network, "PUBLISH could not be queued");
    return {};
  }

 private:
  redisAsyncContext* ac_ = nullptr;
  int fd_ = -1;
  bool writing_ = false;
  int connected_ = 0;
  bool subscribed_ = false;
  bool open_ = true;
};

class RedisPeer : public Peer {
 public:
  std::string name() const override { return "redis-pubsub"; }
  bool acks() const override { return true; }
  std::string guarantee() const override {
    return "PUBLISH reply once copied to subscribers' output buffers in memory; nothing stored";
  }
  pid_t pid() const override { return child_.pid(); }
  std::string config_text() const override { return config_; }
  Status start(const std::filesystem::path& dir) override {
    port_ = SZ_TRY(free_port());
    auto log = dir / "redis.log";
    config_ =
        "bind 127.0.0.1\n"
        "port " +
        std::to_string(port_) + "\n" +
        "protected-mode no\n"
        "daemonize no\n"
        "dir " +
        dir.string() + "\n" +
        "save \"\"\n"  // no RDB snapshots: pub/sub stores nothing anyway
        "appendonly no\n"
        "maxclients 100000\n"
        "tcp-backlog 4096\n"
        "client-output-buffer-limit pubsub 32mb 8mb 60\n"  // default
        "loglevel warning\n";
    SZ_CHECK(write_text(dir / "redis.conf", config_));
    child_ = SZ_TRY(start_peer_server({"/usr/bin/redis-server", (dir / "redis.conf").string()}, port_, log));
    return {};
  }
  void stop() override { child_.stop(); }
  Result<std::unique_ptr<PeerClient>> connect(const ClientSpec& spec) override {
    auto client = std::make_unique<RedisClient>();
    SZ_CHECK(client->connect(port_));
    for (auto channel : spec.listen) SZ_CHECK(client->subscribe(channel));
    return std::unique_ptr<PeerClient>(std::move(client));
  }

 private:
  ChildProcess child_;
  std::uint16_t port_ = 0;
  std::string config_;
};

}  // namespace

std::unique_ptr<Peer> make_redis_peer() { return std::make_unique<RedisPeer>(); }

}  // namespace samizdat::peers
