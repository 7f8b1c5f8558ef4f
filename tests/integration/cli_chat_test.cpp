// `samizdat chat`: lines typed are sent, and incoming messages appear while the chat
// is open (no other command needed).
#include <gtest/gtest.h>

#include "integration_support.hpp"
#include "support/fork_child.hpp"

namespace samizdat::integration {
namespace {

// A running `samizdat chat` with a pipe to its stdin and from its stdout.
class ChatProcess {
 public:
  ChatProcess(const fs::path& home, const std::string& contact) {
    int in_pipe[2], out_pipe[2];
    EXPECT_EQ(::pipe2(in_pipe, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
    const std::string path = program("samizdat").string();
    pid_ = samizdat::testing::fork_child();
    if (pid_ == 0) {
      ::dup2(in_pipe[0], 0);
      ::dup2(out_pipe[1], 1);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 2);
      ::execl(path.c_str(), path.c_str(), "--home", home.c_str(), "chat", contact.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_ = in_pipe[1];
    stdout_ = out_pipe[0];
  }
  ~ChatProcess() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
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
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string output_;
};

TEST(CliChatTest, IncomingMessagesAppearWhileChattingAndTypedLinesAreSent) {
  TempDir tmp;
  ServerProcess server(tmp / "server");
  server.start();
  Cli alice(tmp / "alice"), bob(tmp / "bob");
  ASSERT_EQ(alice({"init", "--bootstrap", server.bootstrap()}).exit_code, 0);
  ASSERT_EQ(bob({"init", "--bootstrap", server.bootstrap()}).exit_code, 0);
  ASSERT_EQ(alice({"contact", "add", "bob", bob.invite()}).exit_code, 0);
  ASSERT_EQ(bob({"contact", "add", "alice", alice.invite()}).exit_code, 0);

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
