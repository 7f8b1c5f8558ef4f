#include "transport/socket/replay_cache.hpp"

#include "crypto/keyed_hash.hpp"
#include "crypto/secret.hpp"

namespace samizdat::transport {

ReplayCache::ReplayCache(std::size_t capacity_per_generation, std::chrono::seconds rotation)
    : capacity_(capacity_per_generation), rotation_(rotation), rotated_at_(std::chrono::steady_clock::now()) {
  crypto::ensure_initialized();
  crypto::fill_random(key_);
}

std::uint64_t ReplayCache::digest(ByteView message) const {
  // Keyed so nobody can aim collisions at the cache.
  auto out = crypto::siphash24(key_, message);
  std::uint64_t value = 0;
  for (auto byte : out) value = (value << 8) | byte;
  return value;
}

void ReplayCache::rotate_if_due_locked() {
  auto now = std::chrono::steady_clock::now();
  if (current_.size() >= capacity_ || now - rotated_at_ >= rotation_) {
    previous_ = std::move(current_);
    current_ = {};
    rotated_at_ = now;
  }
}

bool ReplayCache::check_and_insert(ByteView message) {
  auto value = digest(message);
  std::lock_guard lock(mutex_);
  if (current_.count(value) != 0 || previous_.count(value) != 0) return true;
  rotate_if_due_locked();
  current_.insert(value);
  return false;
}

}  // namespace samizdat::transport
