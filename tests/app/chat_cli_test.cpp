// owl chat as a user runs it: in a pseudo-terminal (two turns, /clear, /bye) and with input piped
// in (one reply per line), on the stories260K model.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "models/model_fixtures.h"
#include "test_files.h"

namespace {

class Pty {
 public:
  explicit Pty(const std::vector<std::string>& args) {
    pid_ = ::forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Pty() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return pid_ > 0; }
  void send(const std::string& s) { ASSERT_EQ(::write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
  // Reads until `marker` appears after what was read before; returns the new text.
  std::string read_until(const std::string& marker, int timeout_ms = 20000) {
    const size_t start = seen_.size();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (seen_.find(marker, start) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      seen_.append(buf, static_cast<size_t>(n));
    }
    return seen_.substr(start);
  }
  int wait_exit() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string seen_;
};

TEST(ChatCli, TwoTurnsClearAndByeInATerminal) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto model = stories260k_gguf(fixtures, owl::DType::f32);
  ::setenv("OWL_STATE_DIR", scratch_path("state").c_str(), 1);
  Pty chat({OWL_BINARY, "chat", model.string(), "--temp", "0", "-n", "16", "-t", "1"});
  ASSERT_TRUE(chat.ok());
  ASSERT_NE(chat.read_until("> ").find("> "), std::string::npos) << "no prompt";
  chat.send("Once upon a time\n");
  const std::string first = chat.read_until("> ");
  EXPECT_GT(first.size(), std::string("Once upon a time\r\n> ").size()) << first;
  chat.send("/clear\n");
  EXPECT_NE(chat.read_until("> ").find("conversation cleared"), std::string::npos);
  chat.send("Once upon a time\n");
  const std::string again = chat.read_until("> ");
  EXPECT_EQ(again, first) << "after /clear the same message must get the same greedy reply";
  chat.send("The cat\n");
  EXPECT_NE(chat.read_until("> ").find("> "), std::string::npos);
  chat.send("/bye\n");
  EXPECT_EQ(chat.wait_exit(), 0);
}

TEST(ChatCli, PipedInputGetsOneReplyPerLine) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto model = stories260k_gguf(fixtures, owl::DType::f32);
  const auto in = scratch_path("chat-in.txt");
  const auto out = scratch_path("chat-out.txt");
  write_file(in, "Hello\nOnce upon a time\n/save " + scratch_path("saved.json").string() + "\n");
  const std::string cmd = std::string(OWL_BINARY) + " chat " + model.string() + " --temp 0 -n 12 -t 1 <" +
                          in.string() + " >" + out.string() + " 2>/dev/null";
  ::setenv("OWL_STATE_DIR", scratch_path("state").c_str(), 1);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string text = read_file(out);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n') >= 2, true) << text;
  const auto saved = nlohmann::json::parse(read_file(scratch_path("saved.json")));
  ASSERT_EQ(saved["messages"].size(), 4u);
  EXPECT_EQ(saved["messages"][0]["content"], "Hello");
  EXPECT_EQ(saved["messages"][1]["role"], "assistant");
}

}  // namespace
