#include "wire/message_codec.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

namespace samizdat::wire {

namespace detail {

Status check_parse_input(std::size_t size, std::size_t max_size, std::string_view what) {
  if (size > max_size || size > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return make_error(
        Errc::limit_exceeded,
        fmt::format("{} is {} bytes, more than the {} allowed; refusing to parse it", what, size, max_size));
  }
  return {};
}

Error parse_failure(std::size_t size, std::string_view what) {
  return make_error(Errc::malformed,
                    fmt::format("{} ({} bytes) is not a valid encoding: truncated or corrupted", what, size));
}

}  // namespace detail

void append_message(Bytes& out, const google::protobuf::MessageLite& message) {
  const std::size_t size = message.ByteSizeLong();
  const std::size_t offset = out.size();
  out.resize(offset + size);
  // Writes exactly the size just computed; messages here are far below protobuf's 2 GiB limit.
  std::uint8_t* end = message.SerializeWithCachedSizesToArray(out.data() + offset);
  if (end != out.data() + out.size()) std::abort();  // programmer error: message changed concurrently
}

Bytes serialize_message(const google::protobuf::MessageLite& message) {
  Bytes out;
  append_message(out, message);
  return out;
}

}  // namespace samizdat::wire
