// Coroutine helpers shared by every layer that runs on Asio.
//
// - use_tuple: the completion token that turns network errors into values
//   (`auto [ec, n] = co_await sock.async_read_some(buf, use_tuple);`).
// - SZ_CO_TRY / SZ_CO_TRY_RESULT: early return of a Result's error from a coroutine, in
//   tdlib's TRY_RESULT shape: the macros expand to plain declarations and an `if`, never to
//   a GNU statement expression (GCC 12 miscompiles those inside coroutines: an ICE with
//   co_await inside, locals destroyed twice without). co_await may appear in `expr`.
// - log_escape("what"): the completion token for co_spawn where the spawner does not wait.
//   Unlike asio::detached it logs an escaped exception (a bug: errors are values on the data
//   path) instead of dropping it, so a coroutine that dies early is seen, not silent.
//
// The same GCC 12 bug destroys a by-value coroutine parameter twice when the argument is a
// prvalue inside a co_await expression: `co_await f(Options{...})` double-frees, while
// `Options o{...}; co_await f(o);` (or std::move(o)) is fine. Pass named variables.
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <utility>

#include "util/result.hpp"

namespace samizdat {

// Network errors as values: `auto [ec, n] = co_await op(..., use_tuple);`.
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Logs an exception that escaped a spawned coroutine; `what` names the coroutine.
void log_escaped_exception(const char* what, const std::exception_ptr& error) noexcept;

class LogEscape {
 public:
  explicit constexpr LogEscape(const char* what) : what_(what) {}

  void operator()(const std::exception_ptr& error) const noexcept {
    if (error) log_escaped_exception(what_, error);
  }
  // For coroutines that return a value nobody waits for.
  template <class T>
  void operator()(const std::exception_ptr& error, T&& /*ignored*/) const noexcept {
    if (error) log_escaped_exception(what_, error);
  }

 private:
  const char* what_;
};

// `asio::co_spawn(executor, serve(...), log_escape("serving a session"));`
constexpr LogEscape log_escape(const char* what) { return LogEscape(what); }

}  // namespace samizdat

#define SZ_CO_CONCAT_INNER_(a, b) a##b
#define SZ_CO_CONCAT_(a, b) SZ_CO_CONCAT_INNER_(a, b)

// SZ_CO_TRY_RESULT(name, expr): `auto name = value of expr`, or co_return its error.
#define SZ_CO_TRY_RESULT(name, expr) SZ_CO_TRY_RESULT_IMPL_(SZ_CO_CONCAT_(sz_co_try_, __COUNTER__), name, expr)
#define SZ_CO_TRY_RESULT_IMPL_(tmp, name, expr)            \
  auto tmp = (expr);                                        \
  if (!tmp.ok()) co_return std::move(tmp).error();          \
  auto name = std::move(tmp).value()

// SZ_CO_TRY(expr): for a Status (or any Result whose value is not needed); co_return its
// error if it failed. It expands to a declaration: write it as a statement of its own
// (inside braces, never as the body of an unbraced if/for).
#define SZ_CO_TRY(expr) SZ_CO_TRY_IMPL_(SZ_CO_CONCAT_(sz_co_try_, __COUNTER__), expr)
#define SZ_CO_TRY_IMPL_(tmp, expr) \
  auto tmp = (expr);               \
  if (!tmp.ok()) co_return std::move(tmp).error()
