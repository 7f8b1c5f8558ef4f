// Result<T>: errors as values on the data path (in the spirit of std::expected).
// Exceptions are reserved for programmer errors and start-up configuration.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace samizdat {

// What kind of failure happened; the message says what exactly and what to do.
enum class Errc {
  invalid_argument,  // caller passed something unusable (bad address, bad option)
  malformed,         // bytes that do not parse (network junk, truncated input)
  auth_failed,       // a MAC, signature or AEAD tag did not verify
  replay,            // something already seen was presented again
  not_found,         // a lookup found nothing
  already_exists,    // an insert collided with something present
  limit_exceeded,    // a size, count or rate bound was hit
  io,                // the operating system refused a read/write/open
  network,           // a socket-level failure (refused, reset, unreachable)
  timeout,           // a deadline passed
  storage,           // the database failed
  protocol,          // the peer broke the protocol
  unavailable,       // a resource is exhausted or the service is shutting down
  internal,          // a bug: something that should be impossible
};

std::string_view to_string(Errc code);

struct Error {
  Errc code;
  std::string message;

  // "auth_failed: frame tag did not verify"
  [[nodiscard]] std::string describe() const;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  [[nodiscard]] bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    assert(failed_);
    return error_;
  }
  Error&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  Error error_{Errc::internal, {}};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace samizdat

// Not for coroutines: GCC 12 miscompiles statement expressions and temporaries inside
// co_await expressions (see util/coro.hpp for the rules there).
// SZ_TRY(expr): evaluates a Result; on error returns the error from the enclosing
// function, otherwise yields the value. (GNU statement expression: GCC and clang.)
#define SZ_TRY(expr)                                                    \
  ({                                                                    \
    auto sz_try_result_ = (expr);                                       \
    if (!sz_try_result_.ok()) return std::move(sz_try_result_).error(); \
    std::move(sz_try_result_).value();                                  \
  })

// SZ_CHECK(expr): for Result<void>/Status; returns the error if there is one.
#define SZ_CHECK(expr)                                                      \
  do {                                                                      \
    auto sz_check_result_ = (expr);                                         \
    if (!sz_check_result_.ok()) return std::move(sz_check_result_).error(); \
  } while (0)
