// Whole files on disk: read one, or replace one so that a reader or a crash sees either the
// old content or the new, never half of it (keys, configs, published maps).
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat {

// The whole file. Errc::not_found if it does not exist, Errc::io for any other failure;
// the message names the path.
Result<Bytes> read_file(const std::filesystem::path& path);

// Replaces `path` with `content` and gives it exactly `mode` (the umask does not apply;
// the default suits configs and published files, which anyone may read):
// a temporary file in the same folder (O_CREAT|O_EXCL, created with `mode`) is written,
// fsynced and renamed over `path`, then the folder is fsynced, so the new content survives a
// crash once this returns. Errc::io naming the path and what to check if any step fails; the
// temporary file is removed then and `path` keeps its old content.
Status write_file_atomically(const std::filesystem::path& path, ByteView content, mode_t mode = 0644);

// write_file_atomically with mode 0600: the secret is never readable by anyone else, not even
// for a moment between creating the file and restricting it.
Status write_secret_file(const std::filesystem::path& path, ByteView content);

}  // namespace samizdat
