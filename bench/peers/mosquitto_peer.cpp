// Mosquitto (Debian's broker and libmosquitto): pair i's receiver subscribes to topic
// "p/i", its sender publishes there. QoS 1 (with persistence and persistent sessions for
// the receivers) or QoS 0 (no persistence, clean sessions).
#include <mosquitto.h>

#include <mutex>

#include "peer.hpp"
#include "peer_server.hpp"
#include "pump.hpp"

namespace samizdat::peers {
namespace {

std::string topic(std::uint32_t channel) { return "p/" + std::to_string(channel); }

class MosquittoClient : public PeerClient {
 public:
  MosquittoClient(const std::string& id, int qos) : qos_(qos) {
    // QoS 1 receivers keep a session (clean_session = false) so the broker queues for them.
    mosq_ = mosquitto_new(id.c_str(), qos == 0, this);
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<MosquittoClient*>(self)->connected_ = rc == 0 ? 1 : -1;
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<MosquittoClient*>(self)->subscribed_ = true;
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* c = static_cast<MosquittoClient*>(self);
      if (c->on_message) c->on_message(ByteView(static_cast<const std::uint8_t*>(m->payload), m->payloadlen));
    });
    if (qos > 0) {
      mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) {
        auto* c = static_cast<MosquittoClient*>(self);
        if (c->on_ack) c->on_ack(true);
      });
    }
    mosquitto_disconnect_callback_set(
        mosq_, [](mosquitto*, void* self, int) { static_cast<MosquittoClient*>(self)->open_ = false; });
  }
  ~MosquittoClient() override { mosquitto_destroy(mosq_); }

  Status connect(std::uint16_t port) {
    // Keepalive 60 s (tick() runs mosquitto_loop_misc); the client's own in-flight cap (20)
    // is above the harness window.
    int rc = mosquitto_connect(mosq_, "127.0.0.1", port, 60);
    if (rc != MOSQ_ERR_SUCCESS)
      return make_error(Errc::network, std::string("mosquitto_connect: ") + mosquitto_strerror(rc));
    SZ_CHECK(pump_until(
        *this, [this] { return connected_ != 0; }, "CONNACK"));
    if (connected_ < 0) return make_error(Errc::auth_failed, "the broker refused the connection");
    return {};
  }
  Status subscribe(std::uint32_t channel) {
    int rc = mosquitto_subscribe(mosq_, nullptr, topic(channel).c_str(), qos_);
    if (rc != MOSQ_ERR_SUCCESS)
      return make_error(Errc::network, std::string("subscribe: ") + mosquitto_strerror(rc));
    subscribed_ = false;
    return pump_until(
        *this, [this] { return subscribed_; }, "SUBACK");
  }

  int fd() const override { return mosquitto_socket(mosq_); }
  bool wants_write() const override { return mosquitto_want_write(mosq_); }
  bool is_open() const override { return open_ && mosquitto_socket(mosq_) >= 0; }
  void handle_read() override {
    int rc = mosquitto_loop_read(mosq_, 100);
    if (rc != MOSQ_ERR_SUCCESS) open_ = false;
  }
  void handle_write() override {
    int rc = mosquitto_loop_write(mosq_, 100);
    if (rc != MOSQ_ERR_SUCCESS) open_ = false;
  }
  void tick() override { mosquitto_loop_misc(mosq_); }
  Status publish(std::uint32_t channel, ByteView payload) override {
    int rc = mosquitto_publish(mosq_, nullptr, topic(channel).c_str(), static_cast<int>(payload.size()),
                               payload.data(), qos_, false);
    if (rc != MOSQ_ERR_SUCCESS)
      return make_error(Errc::network, std::string("publish: ") + mosquitto_strerror(rc));
    return {};
  }

 private:
  mosquitto* mosq_ = nullptr;
  int qos_;
  int connected_ = 0;
  bool subscribed_ = false;
  bool open_ = true;
};

class MosquittoPeer : public Peer {
 public:
  explicit MosquittoPeer(int qos) : qos_(qos) {
    static std::once_flag once;
    std::call_once(once, [] { mosquitto_lib_init(); });
  }
  std::string name() const override { return qos_ == 1 ? "mosquitto-qos1" : "mosquitto-qos0"; }
  bool acks() const override { return qos_ == 1; }
  std::string guarantee() const override {
    return qos_ == 1 ? "PUBACK once in the broker's memory; persistence file written every autosave_interval "
                       "(not per message)"
                     : "none: at most once, in memory";
  }
  pid_t pid() const override { return child_.pid(); }
  std::string config_text() const override { return config_; }
  Status start(const std::filesystem::path& dir) override {
    port_ = SZ_TRY(free_port());
    auto log = dir / "mosquitto.log";
    config_ = "listener " + std::to_string(port_) + " 127.0.0.1\n" +
              "allow_anonymous true\n"
              "user root\n"  // stay the user that owns the temp dir
              "max_connections -1\n"
              "set_tcp_nodelay true\n"
              "max_inflight_messages 20\n"  // default: QoS 1 in flight to each subscriber
              "max_queued_messages 1000\n"  // default: queued per client beyond that
              "log_dest stderr\n"
              "log_type error\nlog_type warning\n";
    if (qos_ == 1) {
      config_ +=
          "persistence true\n"
          "persistence_location " +
          (dir / "").string() + "\n" +
          "autosave_interval 1800\n"      // default: in-memory state saved every 30 min
          "autosave_on_changes false\n";  // default: the interval is in seconds, not changes
    } else {
      config_ += "persistence false\n";
    }
    SZ_CHECK(write_text(dir / "mosquitto.conf", config_));
    child_ = SZ_TRY(
        start_peer_server({"/usr/sbin/mosquitto", "-c", (dir / "mosquitto.conf").string()}, port_, log));
    return {};
  }
  void stop() override { child_.stop(); }
  Result<std::unique_ptr<PeerClient>> connect(const ClientSpec& spec) override {
    auto client = std::make_unique<MosquittoClient>(spec.name, qos_);
    SZ_CHECK(client->connect(port_));
    for (auto channel : spec.listen) SZ_CHECK(client->subscribe(channel));
    return std::unique_ptr<PeerClient>(std::move(client));
  }

 private:
  int qos_;
  ChildProcess child_;
  std::uint16_t port_ = 0;
  std::string config_;
};

}  // namespace

std::unique_ptr<Peer> make_mosquitto_peer(int qos) { return std::make_unique<MosquittoPeer>(qos); }

}  // namespace samizdat::peers
