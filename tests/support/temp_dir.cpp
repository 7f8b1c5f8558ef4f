#include "support/temp_dir.hpp"

#include <unistd.h>

#include <stdexcept>
#include <utility>

#include "support/interrupt_cleanup.hpp"

namespace samizdat::testing {

Result<TempDir> TempDir::create(const std::string& prefix, bool clean_up_on_interrupt) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return make_error(Errc::io, "cannot create a temp directory " + pattern);
  }
  if (clean_up_on_interrupt) register_cleanup_target(-1, pattern);
  return TempDir(Adopt{}, pattern, clean_up_on_interrupt);
}

TempDir::TempDir(const std::string& prefix, bool clean_up_on_interrupt)
    : TempDir([&] {
        auto created = create(prefix, clean_up_on_interrupt);
        if (!created.ok()) throw std::runtime_error(created.error().describe());
        return std::move(*created);
      }()) {}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::exchange(other.path_, {})), clean_up_on_interrupt_(other.clean_up_on_interrupt_) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
    clean_up_on_interrupt_ = other.clean_up_on_interrupt_;
  }
  return *this;
}

TempDir::~TempDir() { remove(); }

void TempDir::remove() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  if (clean_up_on_interrupt_) unregister_cleanup_target(-1, path_);
  path_.clear();
}

}  // namespace samizdat::testing
