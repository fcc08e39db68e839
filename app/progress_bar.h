// A byte-progress display for long conversions: a bar with rate and ETA redrawn in place on a
// terminal, a plain line every tenth of the way otherwise (logs and pipes).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace owl::app {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  void update(uint64_t done, uint64_t total);
  void finish();  // ends the terminal line (safe to call more than once)

 private:
  std::string label_;
  bool tty_;
  bool open_ = false;
  int last_tenth_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace owl::app
