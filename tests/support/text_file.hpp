// Whole small files as text: configs, logs, bootstrap strings.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace samizdat::testing {

// The file's bytes; empty when it cannot be read (a log not written yet).
std::string read_text(const std::filesystem::path& path);
// Replaces the file's contents.
Status write_text(const std::filesystem::path& path, const std::string& text);
// `text` without trailing white space (a line read from a file).
std::string trim_end(std::string text);
// `text` with every `from` replaced by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);

}  // namespace samizdat::testing
