#include "server/router.hpp"

#include <asio/post.hpp>

namespace samizdat::server {

void Router::add(const store::MailboxId& mailbox, asio::any_io_executor executor,
                 std::weak_ptr<PushTarget> target) {
  auto& s = shard(mailbox);
  const PushTarget* raw = target.lock().get();
  std::lock_guard lock(s.mutex);
  s.routes[mailbox].push_back(Route{std::move(executor), std::move(target), raw});
}

void Router::remove(const store::MailboxId& mailbox, const PushTarget* target) {
  auto& s = shard(mailbox);
  std::lock_guard lock(s.mutex);
  auto it = s.routes.find(mailbox);
  if (it == s.routes.end()) return;
  std::erase_if(it->second, [target](const Route& route) { return route.raw == target; });
  if (it->second.empty()) s.routes.erase(it);
}

bool Router::deliver(const store::MailboxId& mailbox, std::shared_ptr<const wire::Envelope> envelope) {
  auto& s = shard(mailbox);
  std::lock_guard lock(s.mutex);
  auto it = s.routes.find(mailbox);
  if (it == s.routes.end()) return false;
  for (const auto& route : it->second) {
    asio::post(route.executor, [target = route.target, envelope] {
      if (auto live = target.lock()) live->push(envelope);
    });
  }
  return true;
}

std::size_t Router::online_count() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.routes.size();
  }
  return n;
}

}  // namespace samizdat::server
