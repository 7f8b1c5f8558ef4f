#include "server/map_push.hpp"

#include <fstream>
#include <sstream>

#include "reach/channels/inband_map.hpp"
#include "util/log.hpp"

namespace samizdat::server {

PublishedMap::PublishedMap(std::filesystem::path file) : file_(std::move(file)) {}

std::shared_ptr<const reach::SignedMap> PublishedMap::current() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return current_;
  next_check_ = now + std::chrono::seconds(1);
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  if (ec || (current_ && mtime == loaded_mtime_)) return current_;
  std::ifstream in(file_, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto parsed = reach::parse_signed_map(as_bytes(buffer.str()));
  if (!parsed.ok()) {
    spdlog::warn("not offering {}: {} (publish it again)", file_.string(), parsed.error().message);
    loaded_mtime_ = mtime;
    return current_;
  }
  if (!current_ || parsed->map.version != current_->map.version) {
    spdlog::info("offering network map v{} in-band", parsed->map.version);
  }
  loaded_mtime_ = mtime;
  current_ = std::make_shared<const reach::SignedMap>(std::move(*parsed));
  return current_;
}

std::optional<wire::ServerMessage> map_offer_push(PublishedMap* published) {
  if (published == nullptr) return std::nullopt;
  auto map = published->current();
  if (!map) return std::nullopt;
  wire::ServerMessage message;
  message.set_request_id(0);
  *message.mutable_map_offer() = reach::make_map_offer(*map);
  return message;
}

Result<wire::ServerMessage> map_reply(PublishedMap* published) {
  auto map = published ? published->current() : nullptr;
  if (!map) return make_error(Errc::not_found, "this server has no network map to give");
  wire::ServerMessage message;
  message.mutable_map_reply()->set_signed_map(std::string(as_chars(map->bytes)));
  return message;
}

}  // namespace samizdat::server
