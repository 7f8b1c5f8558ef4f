#include "util/coro.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <stdexcept>

namespace samizdat {

void log_escaped_exception(const char* what, const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("bug: an exception escaped {}: {}", what, e.what());
  } catch (...) {
    spdlog::error("bug: an unknown exception escaped {}", what);
  }
}

}  // namespace samizdat
