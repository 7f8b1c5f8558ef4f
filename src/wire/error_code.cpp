#include "wire/error_code.hpp"

namespace samizdat::wire {

ErrorCode to_wire_error(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return ERROR_INVALID_ARGUMENT;
    case Errc::malformed:
      return ERROR_MALFORMED;
    case Errc::auth_failed:
      return ERROR_AUTH_FAILED;
    case Errc::replay:
      return ERROR_REPLAY;
    case Errc::not_found:
      return ERROR_NOT_FOUND;
    case Errc::already_exists:
      return ERROR_ALREADY_EXISTS;
    case Errc::limit_exceeded:
      return ERROR_LIMIT_EXCEEDED;
    case Errc::io:
      return ERROR_IO;
    case Errc::network:
      return ERROR_NETWORK;
    case Errc::timeout:
      return ERROR_TIMEOUT;
    case Errc::storage:
      return ERROR_STORAGE;
    case Errc::protocol:
      return ERROR_PROTOCOL;
    case Errc::unavailable:
      return ERROR_UNAVAILABLE;
    case Errc::internal:
      return ERROR_INTERNAL;
  }
  return ERROR_UNSPECIFIED;
}

Errc errc_from_wire(ErrorCode code) {
  switch (code) {
    case ERROR_INVALID_ARGUMENT:
      return Errc::invalid_argument;
    case ERROR_MALFORMED:
      return Errc::malformed;
    case ERROR_AUTH_FAILED:
    case ERROR_NOT_REGISTERED:
      return Errc::auth_failed;
    case ERROR_REPLAY:
      return Errc::replay;
    case ERROR_NOT_FOUND:
      return Errc::not_found;
    case ERROR_ALREADY_EXISTS:
      return Errc::already_exists;
    case ERROR_LIMIT_EXCEEDED:
      return Errc::limit_exceeded;
    case ERROR_IO:
      return Errc::io;
    case ERROR_NETWORK:
      return Errc::network;
    case ERROR_TIMEOUT:
      return Errc::timeout;
    case ERROR_STORAGE:
      return Errc::storage;
    case ERROR_PROTOCOL:
      return Errc::protocol;
    case ERROR_UNAVAILABLE:
      return Errc::unavailable;
    case ERROR_INTERNAL:
    default:  // ERROR_UNSPECIFIED and codes from newer peers
      return Errc::internal;
  }
}

}  // namespace samizdat::wire
