// util/file: secrets are never readable by others, replacements are all-or-nothing, and every
// failure is a value that names the file.
#include "util/file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

namespace samizdat {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("samizdat-file-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(dir_, fs::perms::owner_all, ignored);
    fs::remove_all(dir_, ignored);
  }

  static mode_t mode_of(const fs::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return 0;
    return info.st_mode & 07777;
  }

  fs::path dir_;
};

// Restores the process umask when a test that widens it ends.
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : previous_(::umask(mask)) {}
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;
  ~UmaskGuard() { ::umask(previous_); }

 private:
  mode_t previous_;
};

TEST_F(FileTest, SecretFileIsOwnerOnlyWhateverTheUmask) {
  UmaskGuard open_umask(0);  // a careless umask must not leak the key to other users
  auto file = dir_ / "noise_static.key";
  ASSERT_TRUE(write_secret_file(file, as_bytes("secret\n")).ok());
  EXPECT_EQ(mode_of(file), 0600u);
  auto content = read_file(file);
  ASSERT_TRUE(content.ok()) << content.error().describe();
  EXPECT_EQ(as_chars(*content), "secret\n");
}

TEST_F(FileTest, NoFileInTheFolderIsEverVisibleWithAWiderModeWhileSecretsAreWritten) {
  UmaskGuard open_umask(0);
  auto file = dir_ / "endpoint.psk";
  std::atomic<bool> done{false};
  std::atomic<int> observed{0};
  std::atomic<int> wrong_mode{0};
  std::string wrong_example;
  std::thread watcher([&] {
    while (!done.load()) {
      std::error_code ec;
      for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        struct stat info {};
        if (::lstat(it->path().c_str(), &info) != 0) continue;  // renamed away meanwhile
        ++observed;
        if ((info.st_mode & 07777) != 0600 && wrong_mode++ == 0) wrong_example = it->path().string();
      }
    }
  });
  for (int i = 0; i < 300; ++i) {
    auto written = write_secret_file(file, as_bytes("key number " + std::to_string(i)));
    ASSERT_TRUE(written.ok()) << written.error().describe();
  }
  done = true;
  watcher.join();
  EXPECT_GT(observed.load(), 0);
  EXPECT_EQ(wrong_mode.load(), 0) << "seen with another mode: " << wrong_example;
}

TEST_F(FileTest, ReplacingAnExistingFileShowsReadersTheOldOrTheNewContentNeverAMix) {
  auto file = dir_ / "config.toml";
  const std::string small = "small = 1\n";
  const std::string large(64 * 1024, 'x');
  ASSERT_TRUE(write_file_atomically(file, as_bytes(small), 0644).ok());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto content = read_file(file);
      ASSERT_TRUE(content.ok()) << content.error().describe();  // never missing either
      ++reads;
      auto text = as_chars(*content);
      if (text != small && text != large) ++torn;
    }
  });
  for (int i = 0; i < 200; ++i) {
    auto written = write_file_atomically(file, as_bytes(i % 2 == 0 ? large : small), 0644);
    ASSERT_TRUE(written.ok()) << written.error().describe();
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  auto last = read_file(file);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(as_chars(*last), small);
}

TEST_F(FileTest, ReplacingAPublicFileWithASecretNarrowsItsMode) {
  auto file = dir_ / "operator.key";
  ASSERT_TRUE(write_file_atomically(file, as_bytes("old"), 0644).ok());
  EXPECT_EQ(mode_of(file), 0644u);
  ASSERT_TRUE(write_secret_file(file, as_bytes("new")).ok());
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(as_chars(*read_file(file)), "new");
}

TEST_F(FileTest, LeavesNoTemporaryFilesBehind) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(write_secret_file(dir_ / "a.key", as_bytes("k")).ok());
  ASSERT_TRUE(write_file_atomically(dir_ / "b.txt", as_bytes("b"), 0644).ok());
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.key", "b.txt"}));
}

TEST_F(FileTest, WritingIntoAMissingFolderIsAnErrorNamingTheFile) {
  auto file = dir_ / "missing" / "noise_static.key";
  auto written = write_secret_file(file, as_bytes("secret"));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, Errc::io);
  EXPECT_NE(written.error().message.find(file.string()), std::string::npos) << written.error().message;
}

// A full disk, simulated with a file size limit (which binds root too): the write fails, the
// old content stays, and no partial temporary file is left.
TEST_F(FileTest, AReplacementThatCannotBeWrittenKeepsTheOldContent) {
  auto file = dir_ / "bootstrap.txt";
  ASSERT_TRUE(write_file_atomically(file, as_bytes("old"), 0644).ok());
  struct rlimit previous {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &previous), 0);
  auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  struct rlimit small = previous;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto written = write_file_atomically(file, as_bytes(std::string(4096, 'n')), 0644);
  ::setrlimit(RLIMIT_FSIZE, &previous);
  std::signal(SIGXFSZ, previous_handler);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, Errc::io);
  EXPECT_NE(written.error().message.find(file.string()), std::string::npos) << written.error().message;
  EXPECT_EQ(as_chars(*read_file(file)), "old");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1u) << "the temporary file must be removed after a failed write";
}

TEST_F(FileTest, ReplacingAFolderFailsAndKeepsIt) {
  auto target = dir_ / "published.bin";
  fs::create_directories(target / "inside");
  auto written = write_file_atomically(target, as_bytes("map"), 0644);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, Errc::io);
  EXPECT_NE(written.error().message.find(target.string()), std::string::npos) << written.error().message;
  EXPECT_TRUE(fs::is_directory(target / "inside"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1u) << "the temporary file must be removed after a failed rename";
}

TEST_F(FileTest, ReadingAMissingFileIsNotFoundNamingTheFile) {
  auto file = dir_ / "absent.key";
  auto content = read_file(file);
  ASSERT_FALSE(content.ok());
  EXPECT_EQ(content.error().code, Errc::not_found);
  EXPECT_NE(content.error().message.find(file.string()), std::string::npos) << content.error().message;
}

TEST_F(FileTest, ReadingAFolderIsAnIoErrorNamingIt) {
  auto content = read_file(dir_);
  ASSERT_FALSE(content.ok());
  EXPECT_EQ(content.error().code, Errc::io);
  EXPECT_NE(content.error().message.find(dir_.string()), std::string::npos) << content.error().message;
}

}  // namespace
}  // namespace samizdat
