#include "transport/message_channel.hpp"

#include "util/coro.hpp"
#include "wire/frame_codec.hpp"

namespace samizdat::transport {

asio::awaitable<Result<Bytes>> MessageChannel::read_message() {
  // Fragments already read stay in partial_, so a cancelled read (e.g. a timeout) loses
  // nothing and the next read_message continues the same message.
  for (;;) {
    auto frame = co_await stream_.read_frame();
    if (!frame.ok()) co_return std::move(frame).error();
    if (frame->empty() || (frame->front() & ~kLastFragment) != 0) {
      co_return make_error(Errc::malformed, "message fragment with bad flags");
    }
    if (partial_.size() + frame->size() - 1 > max_message_) {
      partial_.clear();
      co_return make_error(Errc::limit_exceeded,
                           "message larger than the limit of " + std::to_string(max_message_) + " bytes");
    }
    bool last = (frame->front() & kLastFragment) != 0;
    if (partial_.empty() && last) {
      frame->erase(frame->begin());  // the common single-frame message: reuse the buffer
      co_return std::move(*frame);
    }
    partial_.insert(partial_.end(), frame->begin() + 1, frame->end());
    if (last) {
      Bytes message;
      message.swap(partial_);
      co_return message;
    }
  }
}

Status MessageChannel::send_message(ByteView message) {
  // All or nothing: a message is never left half queued, so reserve the worst case
  // (every fragment padded to the largest frame) before queuing the first fragment.
  const std::size_t fragments = message.size() / (stream_.max_payload() - 1) + 1;
  if (stream_.queued_bytes() + fragments * wire::kMaxFrameWireSize > stream_.max_queued_bytes()) {
    return make_error(
        Errc::limit_exceeded,
        "the peer is not reading: " + std::to_string(stream_.queued_bytes()) + " bytes already queued");
  }
  const std::size_t chunk = stream_.max_payload() - 1;
  Bytes fragment;
  fragment.reserve(std::min(message.size(), chunk) + 1);
  std::size_t offset = 0;
  do {
    std::size_t n = std::min(chunk, message.size() - offset);
    bool last = offset + n == message.size();
    fragment.assign(1, last ? kLastFragment : 0);
    fragment.insert(fragment.end(), message.begin() + offset, message.begin() + offset + n);
    SZ_CHECK(stream_.send_frame(fragment));
    offset += n;
  } while (offset < message.size());
  return {};
}

asio::awaitable<Status> MessageChannel::write_message(ByteView message) {
  SZ_CO_TRY(send_message(message));
  co_return co_await stream_.flush();
}

}  // namespace samizdat::transport
