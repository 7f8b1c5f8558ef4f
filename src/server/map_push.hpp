// The in-band map channel, server side (client side: reach/channels/inband_map.hpp).
// PublishedMap holds the newest signed map of DIR/map/published.bin; it re-reads the file
// when its modification time changes (looked at no more than once a second), so
// `samizdatd map publish` reaches a running server without a restart.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "reach/map/signed_map.hpp"
#include "samizdat/session.pb.h"
#include "util/result.hpp"

namespace samizdat::server {

class PublishedMap {
 public:
  explicit PublishedMap(std::filesystem::path file);
  // Null while nothing (readable) is published. Thread-safe.
  std::shared_ptr<const reach::SignedMap> current();

 private:
  std::filesystem::path file_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_check_{};
  std::filesystem::file_time_type loaded_mtime_{};
  std::shared_ptr<const reach::SignedMap> current_;
};

// The unsolicited offer (request_id 0) a session sends after its first reply; none when
// nothing is published or `published` is null.
std::optional<wire::ServerMessage> map_offer_push(PublishedMap* published);
// The reply to GetMap: the signed map bytes, or Errc::not_found.
Result<wire::ServerMessage> map_reply(PublishedMap* published);

}  // namespace samizdat::server
