// NATS (Debian's nats-server and cnats on the harness's loop through cnats' external
// event-loop hooks; synchronous subscriptions drained after each read):
//  - core: pair i's receiver subscribes to "p.i", its sender publishes there (no acks);
//  - JetStream: stream P (file storage) holds "p.>"; each receiver has a durable push
//    consumer (filter "p.i", explicit acks, deliver subject "d.<name>") and acks every
//    message; senders publish with a reply inbox and count the stream's PubAcks.
#include <nats/nats.h>

#include <mutex>

#include "peer.hpp"
#include "peer_server.hpp"
#include "pump.hpp"

namespace samizdat::peers {
namespace {

std::string subject(std::uint32_t channel) { return "p." + std::to_string(channel); }

Error nats_error(const std::string& what, natsStatus s) {
  return Error{Errc::network, what + ": " + natsStatus_GetText(s)};
}

class NatsClient : public PeerClient {
 public:
  NatsClient(std::string name, bool jetstream) : name_(std::move(name)), jetstream_(jetstream) {}
  // The connection is left to the process exit (the server is stopped right after): with an
  // external event loop that no longer runs, natsConnection_Close blocks in a timed wait per
  // connection (seen: minutes for 2,000 connections), and the library's threads may still
  // call our detach callback, so this object must stay valid too (see NatsPeer::connect).
  ~NatsClient() override = default;

  Status connect(std::uint16_t port, bool sender) {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    std::string url = "nats://127.0.0.1:" + std::to_string(port);
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetName(opts, name_.c_str());
    natsOptions_SetAllowReconnect(opts, false);
    natsOptions_SetPingInterval(opts, 3'600'000);  // runs are shorter; no timer-thread pings
    natsOptions_SetMaxPendingMsgs(opts, 1 << 20);
    // Write each publish/ack as it is made (the library otherwise waits to fill its buffer,
    // which with an external event loop and a window of 4 stalls the senders).
    natsOptions_SetSendAsap(opts, true);
    natsOptions_SetEventLoop(
        opts, this,
        [](void** user, void* loop, natsConnection*, natsSock sock) -> natsStatus {
          auto* self = static_cast<NatsClient*>(loop);
          self->fd_ = sock;
          *user = self;
          return NATS_OK;
        },
        [](void*, bool) -> natsStatus { return NATS_OK; },  // the harness always reads
        [](void* user, bool add) -> natsStatus {
          static_cast<NatsClient*>(user)->writing_ = add;
          return NATS_OK;
        },
        [](void* user) -> natsStatus {
          static_cast<NatsClient*>(user)->open_ = false;
          return NATS_OK;
        });
    natsStatus s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return nats_error("connect", s);
    if (jetstream_ && sender) {
      // PubAcks of this sender come to its own inbox.
      inbox_ = "_INBOX." + name_;
      natsSubscription* sub = nullptr;
      s = natsConnection_SubscribeSync(&sub, nc_, inbox_.c_str());
      if (s != NATS_OK) return nats_error("subscribe inbox", s);
      natsSubscription_SetPendingLimits(sub, -1, -1);
      subs_.push_back(sub);
      acks_sub_ = sub;
    }
    return flush_writes();
  }

  Status listen(const std::string& subj) {
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_SubscribeSync(&sub, nc_, subj.c_str());
    if (s != NATS_OK) return nats_error("subscribe", s);
    natsSubscription_SetPendingLimits(sub, -1, -1);
    subs_.push_back(sub);
    return flush_writes();
  }

  int fd() const override { return fd_; }
  bool wants_write() const override { return writing_; }
  bool is_open() const override { return open_; }
  void handle_read() override {
    natsConnection_ProcessReadEvent(nc_);
    for (auto* sub : subs_) {
      natsMsg* msg = nullptr;
      while (natsSubscription_NextMsg(&msg, sub, 0) == NATS_OK) {
        if (sub == acks_sub_) {
          std::string body(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
          if (on_ack) on_ack(body.find("\"error\"") == std::string::npos);
        } else {
          if (on_message) {
            on_message(ByteView(reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
                                static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
          }
          // JetStream delivery: ack it (explicit ack policy), as a messenger client would.
          const char* reply = natsMsg_GetReply(msg);
          if (jetstream_ && reply != nullptr) natsConnection_Publish(nc_, reply, "+ACK", 4);
        }
        natsMsg_Destroy(msg);
      }
    }
  }
  void handle_write() override { natsConnection_ProcessWriteEvent(nc_); }
  Status publish(std::uint32_t channel, ByteView payload) override {
    auto subj = subject(channel);
    natsStatus s =
        jetstream_
            ? natsConnection_PublishRequest(nc_, subj.c_str(), inbox_.c_str(), payload.data(),
                                            static_cast<int>(payload.size()))
            : natsConnection_Publish(nc_, subj.c_str(), payload.data(), static_cast<int>(payload.size()));
    if (s != NATS_OK) return nats_error("publish", s);
    return {};
  }

 private:
  Status flush_writes() {
    return pump_until(
        *this, [this] { return !writing_; }, "subscription sent");
  }

  std::string name_;
  bool jetstream_;
  natsConnection* nc_ = nullptr;
  std::vector<natsSubscription*> subs_;
  natsSubscription* acks_sub_ = nullptr;
  std::string inbox_;
  int fd_ = -1;
  bool writing_ = false;
  bool open_ = true;
};

// Forwards to a NatsClient that is never deleted (see ~NatsClient).
class NatsHandle : public PeerClient {
 public:
  explicit NatsHandle(NatsClient* client) : client_(client) {
    client_->on_message = [this](ByteView payload) {
      if (on_message) on_message(payload);
    };
    client_->on_ack = [this](bool ok) {
      if (on_ack) on_ack(ok);
    };
  }
  ~NatsHandle() override {
    client_->on_message = nullptr;
    client_->on_ack = nullptr;
  }
  int fd() const override { return client_->fd(); }
  bool wants_write() const override { return client_->wants_write(); }
  void handle_read() override { client_->handle_read(); }
  void handle_write() override { client_->handle_write(); }
  bool is_open() const override { return client_->is_open(); }
  Status publish(std::uint32_t channel, ByteView payload) override {
    return client_->publish(channel, payload);
  }

 private:
  NatsClient* client_;
};

class NatsPeer : public Peer {
 public:
  explicit NatsPeer(bool jetstream) : jetstream_(jetstream) {
    static std::once_flag once;
    std::call_once(once, [] { nats_Open(-1); });
  }
  ~NatsPeer() override { close_admin(); }
  std::string name() const override { return jetstream_ ? "nats-jetstream" : "nats-core"; }
  bool acks() const override { return jetstream_; }
  std::string guarantee() const override {
    return jetstream_
               ? "PubAck once appended to the stream's file (fsync every sync_interval, 2 min default); "
                 "receivers ack"
               : "none: at most once, in memory";
  }
  pid_t pid() const override { return child_.pid(); }
  std::string config_text() const override { return config_; }
  Status start(const std::filesystem::path& dir) override {
    port_ = SZ_TRY(free_port());
    auto log = dir / "nats.log";
    config_ = "listen: 127.0.0.1:" + std::to_string(port_) + "\n" +
              "max_payload: 1MB\n"
              "max_pending: 64MB\n"  // default: per-client outbound buffer
              "write_deadline: \"10s\"\n";
    if (jetstream_) {
      config_ += "jetstream {\n  store_dir: \"" + (dir / "js").string() +
                 "\"\n  max_memory_store: 256MB\n  max_file_store: 8GB\n}\n";
    }
    SZ_CHECK(write_text(dir / "nats.conf", config_));
    child_ =
        SZ_TRY(start_peer_server({"/usr/sbin/nats-server", "-c", (dir / "nats.conf").string()}, port_, log));
    if (jetstream_) SZ_CHECK(make_stream());
    return {};
  }
  void stop() override {
    close_admin();
    child_.stop();
  }
  Result<std::unique_ptr<PeerClient>> connect(const ClientSpec& spec) override {
    auto client = std::make_unique<NatsClient>(spec.name, jetstream_);
    SZ_CHECK(client->connect(port_, spec.listen.empty()));
    for (auto channel : spec.listen) {
      if (jetstream_) {
        std::string deliver = "d." + spec.name;
        SZ_CHECK(make_consumer(spec.name, subject(channel), deliver));
        SZ_CHECK(client->listen(deliver));
      } else {
        SZ_CHECK(client->listen(subject(channel)));
      }
    }
    // The harness owns a thin handle; the client itself lives until the process exits.
    NatsClient* raw = client.release();
    return std::unique_ptr<PeerClient>(new NatsHandle(raw));
  }

 private:
  // Stream and consumers are made over an ordinary (threaded) cnats connection.
  Status make_stream() {
    natsStatus s = natsConnection_ConnectTo(&admin_, ("nats://127.0.0.1:" + std::to_string(port_)).c_str());
    if (s != NATS_OK) return nats_error("admin connect", s);
    s = natsConnection_JetStream(&js_, admin_, nullptr);
    if (s != NATS_OK) return nats_error("JetStream context", s);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {"p.>"};
    cfg.Name = "P";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_InterestPolicy;  // a message goes once every consumer has acked it
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
    if (s != NATS_OK) return nats_error("add stream (" + std::to_string(jerr) + ")", s);
    jsStreamInfo_Destroy(si);
    return {};
  }
  Status make_consumer(const std::string& name, const std::string& filter, const std::string& deliver) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = name.c_str();
    cc.DeliverSubject = deliver.c_str();
    cc.FilterSubject = filter.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverNew;
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_AddConsumer(&ci, js_, "P", &cc, nullptr, &jerr);
    if (s != NATS_OK) return nats_error("add consumer (" + std::to_string(jerr) + ")", s);
    jsConsumerInfo_Destroy(ci);
    return {};
  }
  void close_admin() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    js_ = nullptr;
    if (admin_ != nullptr) {
      natsConnection_Close(admin_);
      natsConnection_Destroy(admin_);
    }
    admin_ = nullptr;
  }

  bool jetstream_;
  ChildProcess child_;
  std::uint16_t port_ = 0;
  std::string config_;
  natsConnection* admin_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace

std::unique_ptr<Peer> make_nats_peer(bool jetstream) { return std::make_unique<NatsPeer>(jetstream); }

}  // namespace samizdat::peers
