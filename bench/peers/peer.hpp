// A system under test in samizdat-peers (docs/BENCHMARKS.md, "Peers"): a server process the
// harness starts on 127.0.0.1 with a config file in a temp directory, and clients of it
// driven by the harness's event loops. Channels are small integers: pair i's receiver
// listens on channel i; each system maps a channel to its own addressing (MQTT topic,
// Redis channel, NATS subject, relay connection id).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::peers {

// One client connection. Non-blocking once connected; lives on one event-loop thread and
// every method is called there. The loop polls fd() for reading always and for writing
// while wants_write().
class PeerClient {
 public:
  virtual ~PeerClient() = default;
  virtual int fd() const = 0;
  virtual bool wants_write() const = 0;
  virtual void handle_read() = 0;
  virtual void handle_write() = 0;
  virtual void tick() {}  // about every 100 ms (keepalives of the library)
  virtual bool is_open() const = 0;
  // Queues one message for `channel`. When the system acknowledges publishes, on_ack
  // follows (ok = accepted by the server).
  virtual Status publish(std::uint32_t channel, ByteView payload) = 0;

  std::function<void(ByteView payload)> on_message;  // a message for a channel we listen on
  std::function<void(bool ok)> on_ack;               // a publish acknowledged (or refused)
};

struct ClientSpec {
  std::string name;                   // unique client name (client id where the system has one)
  std::vector<std::uint32_t> listen;  // channels to receive; empty = sender only
  std::uint32_t own_id = 0;           // unique per client (relay connection id)
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string name() const = 0;
  // Does a publish get a per-message acknowledgement from the server? (Otherwise the
  // harness's window counts messages not yet delivered.)
  virtual bool acks() const = 0;
  // One line on what an acknowledgement means (durability), for the table notes.
  virtual std::string guarantee() const = 0;
  // Writes the config into `dir`, starts the server and waits until it accepts.
  virtual Status start(const std::filesystem::path& dir) = 0;
  virtual pid_t pid() const = 0;
  virtual void stop() = 0;
  // The config file text it started with (for the doc).
  virtual std::string config_text() const = 0;
  // Connects, subscribes to spec.listen and waits until the server confirmed where the
  // protocol confirms it (blocking; set-up only).
  virtual Result<std::unique_ptr<PeerClient>> connect(const ClientSpec& spec) = 0;
  // Fan-out: true when receivers can listen on one group channel; false when the system
  // has no groups and the sender publishes once per member (the relay, like Samizdat).
  virtual bool has_groups() const { return true; }
};

// The peers this binary knows, by name: relay, mosquitto-qos1, mosquitto-qos0, redis,
// nats, nats-jetstream.
Result<std::unique_ptr<Peer>> make_peer(const std::string& name);

}  // namespace samizdat::peers
