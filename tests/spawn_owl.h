// Starts the owl binary of this build with arguments split at spaces, with no shell between (so
// that a signal sent to the pid reaches owl itself): stdout to stdout_fd, stderr to /dev/null, and
// close_fd (another end of a pipe) closed in the child. Returns the pid.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

inline pid_t spawn_owl(const std::string& args, int stdout_fd, int close_fd = -1) {
  std::vector<std::string> words = {OWL_BINARY};
  std::istringstream split(args);
  for (std::string w; split >> w;) words.push_back(w);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(stdout_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
    if (close_fd >= 0) ::close(close_fd);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}
