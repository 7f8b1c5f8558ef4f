// store_call: awaits a storage operation that completes by callback on the store's
// writer thread, resuming the coroutine on its own executor.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <memory>

#include "util/result.hpp"

namespace samizdat::server {

// start(callback) must call callback(Result<T>) exactly once, from any thread.
// Pass `start` as a named variable (std::move(start)): GCC 12 destroys some temporaries
// created inside a co_await expression twice, so the caller must not create one here.
template <class T, class Start>
asio::awaitable<Result<T>> store_call(const asio::any_io_executor& executor, Start&& start) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(Result<T>)>(
      [executor, start = std::forward<Start>(start)](auto handler) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([executor, shared](Result<T> result) {
          asio::post(executor,
                     [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
        });
      },
      asio::use_awaitable);
}

}  // namespace samizdat::server
