// A fresh directory under $TMPDIR (mkdtemp), removed with everything in it when the object
// goes away.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace samizdat::testing {

class TempDir {
 public:
  // `prefix`-XXXXXX under the temp directory; throws when it cannot be created (a test
  // cannot run without it). clean_up_on_interrupt: removed by interrupt_cleanup.hpp too.
  explicit TempDir(const std::string& prefix = "samizdat-test", bool clean_up_on_interrupt = false);
  // The same as an error value, for benchmarks.
  static Result<TempDir> create(const std::string& prefix, bool clean_up_on_interrupt = false);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  struct Adopt {};
  TempDir(Adopt, std::filesystem::path path, bool clean_up_on_interrupt)
      : path_(std::move(path)), clean_up_on_interrupt_(clean_up_on_interrupt) {}
  void remove();
  std::filesystem::path path_;
  bool clean_up_on_interrupt_ = false;
};

}  // namespace samizdat::testing
