#include "transport/deadline.hpp"

namespace samizdat::transport {

Deadline::Deadline(const asio::any_io_executor& executor, DeadlineClock::time_point at,
                   std::function<void()> expire)
    : timer_(executor, at), flags_(std::make_shared<Flags>()) {
  // The flags outlive this guard, so a handler queued before it was destroyed sees it is
  // disarmed and never touches what it guarded.
  timer_.async_wait([flags = flags_, expire = std::move(expire)](std::error_code ec) {
    if (ec || flags->disarmed) return;
    flags->fired = true;
    expire();
  });
}

Deadline::~Deadline() {
  flags_->disarmed = true;
  timer_.cancel();
}

}  // namespace samizdat::transport
