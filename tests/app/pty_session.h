// A program run in a pseudo-terminal, as a user at a terminal runs it: what it writes is read back
// until an expected marker, keys are sent as bytes (Ctrl-C is "\x03", Ctrl-D "\x04", up "\x1b[A").
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

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
  // Keys typed at a prompt as a person types them: a moment after it appears. (libedit shows its
  // prompt just before it takes the terminal out of line mode; what comes in between is echoed by
  // the terminal itself, and Ctrl-D there is the terminal's end of file.)
  void type(const std::string& s) {
    read_until("", 150);
    send(s);
  }
  // Reads until `marker` appears after what was read before (an empty marker: for the whole
  // timeout); returns the new text.
  std::string read_until(const std::string& marker, int timeout_ms = 20000) {
    const size_t start = seen_.size();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while ((marker.empty() || seen_.find(marker, start) == std::string::npos) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      seen_.append(buf, static_cast<size_t>(n));
    }
    return seen_.substr(start);
  }
  // The exit status, or -1 when the program does not end within timeout_ms (it is then killed).
  int wait_exit(int timeout_ms = 20000) {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) return -1;  // the destructor kills it
      read_until("", 50);  // keep draining what it writes, so that it never blocks on a full pty
    }
    read_until("", 100);  // what it wrote last
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& seen() const { return seen_; }  // everything read so far

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string seen_;
};
