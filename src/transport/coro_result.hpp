// Never put co_await inside these macros: GCC 12 miscompiles (ICE) co_await in a statement expression.
// SZ_CO_TRY / SZ_CO_CHECK: SZ_TRY / SZ_CHECK for coroutines (which must co_return).
#pragma once

#include "util/result.hpp"

#define SZ_CO_TRY(expr)                                                          \
  ({                                                                             \
    auto sz_co_try_result_ = (expr);                                             \
    if (!sz_co_try_result_.ok()) co_return std::move(sz_co_try_result_).error(); \
    std::move(sz_co_try_result_).value();                                        \
  })

#define SZ_CO_CHECK(expr)                                                            \
  do {                                                                               \
    auto sz_co_check_result_ = (expr);                                               \
    if (!sz_co_check_result_.ok()) co_return std::move(sz_co_check_result_).error(); \
  } while (0)
