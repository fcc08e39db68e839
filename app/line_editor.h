// Reading what the user types: with a terminal, libedit (line editing, history kept in a file, Ctrl-C
// that abandons the line), otherwise plain lines from stdin.
#pragma once

#include <pthread.h>

#include <csignal>
#include <memory>
#include <string>

namespace owl::app {

class LineEditor {
 public:
  // history_file: where the history is loaded from and saved to (empty: kept in memory only).
  LineEditor(bool terminal, std::string history_file);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  enum class Read {
    line,         // a line (without its newline)
    interrupted,  // Ctrl-C; `was_empty` says whether anything had been typed
    end,          // Ctrl-D at an empty prompt, or the end of the input
  };
  Read read(const std::string& prompt, std::string& line, bool& was_empty);
  // Adds an entry to the history (saved at once, through a temporary file).
  void remember(const std::string& entry);
  bool terminal() const { return terminal_; }

 private:
  struct Editline;
  bool terminal_;
  std::string history_file_;
  std::unique_ptr<Editline> el_;
};

// SIGINT sets a flag instead of ending the process while an interruptible step runs; interrupted()
// reads and clears it. Installed for the life of the guard (and without SA_RESTART, so that a read
// waiting on the terminal returns).
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  static bool pending();
  static void clear();
};

// Runs make() with SIGINT blocked, so that the threads it starts never take the signal: it must
// reach the main thread, whose read of the terminal it interrupts.
template <typename F>
auto without_interrupts(F make) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  auto made = make();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return made;
}

}  // namespace owl::app
