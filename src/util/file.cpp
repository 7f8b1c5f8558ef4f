#include "util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace samizdat {
namespace {

namespace fs = std::filesystem;

std::string system_reason(int error) { return std::strerror(error); }

Error io_error(std::string what, const fs::path& path, int error, std::string_view advice) {
  std::string message = what + " " + path.string() + ": " + system_reason(error);
  if (!advice.empty()) message += " (" + std::string(advice) + ")";
  return make_error(Errc::io, std::move(message));
}

// Closes on every path out of write_file_atomically, and removes the temporary file unless
// it was renamed into place.
class TemporaryFile {
 public:
  TemporaryFile(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const fs::path& path() const { return path_; }
  // close(2) reports delayed write errors on some filesystems (NFS), so it is checked.
  int close() {
    int result = ::close(fd_);
    fd_ = -1;
    return result;
  }
  void mark_renamed() { renamed_ = true; }

 private:
  int fd_;
  fs::path path_;
  bool renamed_ = false;
};

// A fresh name beside `path` (".name.tmp-<pid>-<n>"), created exclusively so that nothing
// else (a stale leftover, a planted link) can be opened in its place.
Result<int> create_temporary(const fs::path& path, mode_t mode, fs::path& temporary) {
  static std::atomic<unsigned> counter{0};
  fs::path folder = path.parent_path();
  if (folder.empty()) folder = ".";
  for (int attempt = 0; attempt < 100; ++attempt) {
    temporary = folder / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(counter.fetch_add(1)));
    int fd = ::open(temporary.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EEXIST)
      return io_error("cannot write", path, errno, "check the folder exists and is writable");
  }
  return make_error(Errc::io, "cannot write " + path.string() + ": no free temporary name in " +
                                  folder.string() + " (remove its stale .tmp- files)");
}

Status write_all(int fd, ByteView content, const fs::path& path) {
  while (!content.empty()) {
    ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path, errno, "is the disk full?");
    }
    content = content.subspan(static_cast<std::size_t>(written));
  }
  return {};
}

// Makes the rename itself durable. Filesystems that cannot sync a folder say EINVAL; there
// the rename is as durable as that filesystem makes it.
Status sync_folder(const fs::path& path) {
  fs::path folder = path.parent_path();
  if (folder.empty()) folder = ".";
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open the folder of", path, errno, "to make its replacement durable");
  int result = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (result != 0 && error != EINVAL) return io_error("cannot sync the folder of", path, error, "");
  return {};
}

}  // namespace

Result<Bytes> read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT)
      return make_error(Errc::not_found, "cannot read " + path.string() + ": it does not exist");
    return io_error("cannot read", path, error, "check its permissions");
  }
  Bytes content;
  std::uint8_t chunk[16 * 1024];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return io_error("cannot read", path, error, "");
    }
    if (n == 0) break;
    content.insert(content.end(), chunk, chunk + n);
  }
  ::close(fd);
  return content;
}

Status write_file_atomically(const fs::path& path, ByteView content, mode_t mode) {
  fs::path temporary_path;
  auto fd = create_temporary(path, mode, temporary_path);
  if (!fd.ok()) return std::move(fd).error();
  TemporaryFile temporary(*fd, temporary_path);
  // open(2) applies the umask; the caller asked for exactly `mode`. Set on the descriptor
  // before any byte is written, and the umask only ever narrows, so the file is never wider.
  if (::fchmod(temporary.fd(), mode) != 0) return io_error("cannot set the mode of", path, errno, "");
  SZ_CHECK(write_all(temporary.fd(), content, path));
  if (::fsync(temporary.fd()) != 0) return io_error("cannot write", path, errno, "is the disk full?");
  if (temporary.close() != 0) return io_error("cannot write", path, errno, "is the disk full?");
  if (::rename(temporary.path().c_str(), path.c_str()) != 0) {
    return io_error("cannot replace", path, errno, "check the folder's permissions");
  }
  temporary.mark_renamed();
  return sync_folder(path);
}

Status write_secret_file(const fs::path& path, ByteView content) {
  return write_file_atomically(path, content, 0600);
}

}  // namespace samizdat
