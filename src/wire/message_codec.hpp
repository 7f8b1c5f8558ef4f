// Size-limited protobuf parsing and serialization for every schema in proto/samizdat.
// Bytes from the network or disk are parsed only through parse_message, so an
// oversized or broken input becomes an error value, never an exception or a crash.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::wire {

namespace detail {
Status check_parse_input(std::size_t size, std::size_t max_size, std::string_view what);
Error parse_failure(std::size_t size, std::string_view what);
}  // namespace detail

// Parses `bytes` as message type T. Errc::limit_exceeded if bytes.size() > max_size,
// Errc::malformed if the bytes are not a valid encoding of T. `what` names the thing
// in error messages ("envelope", "contact record").
template <class T>
Result<T> parse_message(ByteView bytes, std::size_t max_size, std::string_view what) {
  static_assert(std::is_base_of_v<google::protobuf::MessageLite, T>, "T must be a protobuf message");
  SZ_CHECK(detail::check_parse_input(bytes.size(), max_size, what));
  T message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return detail::parse_failure(bytes.size(), what);
  }
  return message;
}

// Appends the serialized message to `out` (for batching into one buffer).
void append_message(Bytes& out, const google::protobuf::MessageLite& message);
Bytes serialize_message(const google::protobuf::MessageLite& message);

}  // namespace samizdat::wire
