// Router: which devices are online and where. Maps a mailbox to the sessions of that
// device (normally one) and the executor each runs on, so a durable append on any
// thread posts the push to the recipient's own thread. Thread-safe (sharded mutexes).
#pragma once

#include <array>
#include <asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "samizdat/envelope.pb.h"
#include "store/envelope.hpp"

namespace samizdat::server {

// Something that can take a pushed envelope on its own executor.
class PushTarget {
 public:
  virtual ~PushTarget() = default;
  virtual void push(std::shared_ptr<const wire::Envelope> envelope) = 0;  // called on its executor
};

class Router {
 public:
  void add(const store::MailboxId& mailbox, asio::any_io_executor executor, std::weak_ptr<PushTarget> target);
  void remove(const store::MailboxId& mailbox, const PushTarget* target);
  // Posts the envelope to every online session of `mailbox`; false if none is online.
  bool deliver(const store::MailboxId& mailbox, std::shared_ptr<const wire::Envelope> envelope);
  std::size_t online_count() const;

 private:
  struct Route {
    asio::any_io_executor executor;
    std::weak_ptr<PushTarget> target;
    const PushTarget* raw;
  };
  struct MailboxHash {
    std::size_t operator()(const store::MailboxId& m) const {
      std::size_t h = 0;
      for (int i = 0; i < 8; ++i) h = (h << 8) | m[i];  // mailbox ids are uniformly random
      return h;
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<store::MailboxId, std::vector<Route>, MailboxHash> routes;
  };
  Shard& shard(const store::MailboxId& mailbox) { return shards_[mailbox[31] % shards_.size()]; }

  std::array<Shard, 16> shards_;
};

}  // namespace samizdat::server
