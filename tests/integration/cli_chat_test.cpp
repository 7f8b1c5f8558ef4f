// `samizdat chat`: lines typed are sent, and incoming messages appear while the chat
// is open (no other command needed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "integration_support.hpp"

namespace samizdat::integration {
namespace {

// A running `samizdat chat` with a pipe to its stdin and from its stdout.
class ChatProcess {
 public:
  ChatProcess(const fs::path& home, const std::string& contact) {
    int in_pipe[2], out_pipe[2];
    EXPECT_EQ(::pipe2(in_pipe, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
    ChildOptions options;
    options.output = "/dev/null";  // stderr
    options.stdin_fd = in_pipe[0];
    options.stdout_fd = out_pipe[1];
    auto started = ChildProcess::start(
        {program("samizdat").string(), "--home", home.string(), "chat", contact}, options);
    EXPECT_TRUE(started.ok()) << started.error().describe();
    if (started.ok()) process_ = std::move(*started);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_ = in_pipe[1];
    stdout_ = out_pipe[0];
  }
  ~ChatProcess() {
    if (stdin_ >= 0) ::close(stdin_);
    process_.kill();
    ::close(stdout_);
  }

  void type(const std::string& line) {
    ASSERT_EQ(::write(stdin_, (line + "\n").data(), line.size() + 1), static_cast<ssize_t>(line.size() + 1));
  }

  // Reads output until `text` appears or `within` passes.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    char buffer[1024];
    while (output_.find(text) == std::string::npos) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fd{stdout_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t n = ::read(stdout_, buffer, sizeof buffer);
      if (n <= 0) return output_.find(text) != std::string::npos;
      output_.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }

  // Ctrl-D: the chat sends what is queued and exits.
  int finish(std::chrono::seconds within) {
    ::close(stdin_);
    stdin_ = -1;
    auto deadline = std::chrono::steady_clock::now() + within;
    while (process_.running()) {
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(20ms);
    }
    return process_.exited() ? process_.exit_code() : -1;
  }

  const std::string& output() const { return output_; }

 private:
  ChildProcess process_;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string output_;
};

TEST(CliChatTest, IncomingMessagesAppearWhileChattingAndTypedLinesAreSent) {
  TempDir tmp;
  ServerProcess server(tmp / "server");
  ASSERT_NO_FATAL_FAILURE(server.start());
  Cli alice(tmp / "alice"), bob(tmp / "bob");
  ASSERT_NO_FATAL_FAILURE(init_and_introduce(alice, bob, server.bootstrap()));

  ChatProcess chat(tmp / "bob", "alice");
  ASSERT_TRUE(chat.wait_for_output("Chatting with alice", 10s)) << chat.output();
  ASSERT_EQ(alice({"send", "alice-does-not-exist-here", "x"}).exit_code, 1);  // sanity: errors still work
  ASSERT_EQ(alice({"send", "bob", "are you in the chat?"}).exit_code, 0);
  EXPECT_TRUE(chat.wait_for_output("alice: are you in the chat?", 15s)) << chat.output();

  chat.type("yes, typing live");
  chat.type("second line");
  EXPECT_EQ(chat.finish(30s), 0) << chat.output();

  auto received = alice({"recv"}).json_lines();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["text"], "yes, typing live");
  EXPECT_EQ(received[1]["text"], "second line");
}

}  // namespace
}  // namespace samizdat::integration
