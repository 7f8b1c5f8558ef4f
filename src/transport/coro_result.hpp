// SZ_CO_CHECK: SZ_CHECK for coroutines (which must co_return).
// There is deliberately no SZ_CO_TRY: GCC 12 miscompiles statement expressions inside
// coroutines (an ICE with co_await inside, double destruction of locals without). Write
// `auto x = f(); if (!x.ok()) co_return std::move(x).error();` instead, and never put
// co_await inside SZ_CO_CHECK.
//
// The same GCC 12 bug destroys a by-value coroutine parameter twice when the argument is
// a prvalue inside a co_await expression: `co_await f(Options{...})` double-frees, while
// `Options o{...}; co_await f(o);` (or std::move(o)) is fine. Pass named variables.
#pragma once

#include "util/result.hpp"

#define SZ_CO_CHECK(expr)                                                            \
  do {                                                                               \
    auto sz_co_check_result_ = (expr);                                               \
    if (!sz_co_check_result_.ok()) co_return std::move(sz_co_check_result_).error(); \
  } while (0)
