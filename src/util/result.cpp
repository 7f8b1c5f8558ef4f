#include "util/result.hpp"

namespace samizdat {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::malformed:
      return "malformed input";
    case Errc::auth_failed:
      return "authentication failed";
    case Errc::replay:
      return "replay";
    case Errc::not_found:
      return "not found";
    case Errc::already_exists:
      return "already exists";
    case Errc::limit_exceeded:
      return "limit exceeded";
    case Errc::io:
      return "i/o error";
    case Errc::network:
      return "network error";
    case Errc::timeout:
      return "timed out";
    case Errc::storage:
      return "storage error";
    case Errc::protocol:
      return "protocol violation";
    case Errc::unavailable:
      return "unavailable";
    case Errc::internal:
      return "internal error";
  }
  return "unknown error";
}

std::string Error::describe() const {
  std::string text(to_string(code));
  if (!message.empty()) {
    text += ": ";
    text += message;
  }
  return text;
}

}  // namespace samizdat
