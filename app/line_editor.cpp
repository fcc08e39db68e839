#include "line_editor.h"

#include <histedit.h>
#include <langinfo.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <filesystem>
#include <iostream>

namespace owl::app {

namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

std::string g_prompt;  // libedit asks for the prompt through a callback without a context
const char* current_prompt(EditLine*) { return g_prompt.c_str(); }

constexpr int kHistorySize = 1000;

sigset_t g_wait_mask;  // the thread's signal mask outside el_gets: SIGINT open

// libedit's character reader, replaced so that Ctrl-C is never missed: while el_gets runs, SIGINT
// is blocked and only let in by ppoll, so a signal that arrives while a key is being handled is
// seen before the next wait instead of leaving a read() blocked. -1 with EINTR ends el_gets.
int read_char(EditLine*, wchar_t* out) {
  static mbstate_t state{};
  for (;;) {
    if (g_interrupted != 0) {
      state = mbstate_t{};
      errno = EINTR;
      return -1;
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::ppoll(&p, 1, nullptr, &g_wait_mask) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    char c = 0;
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    wchar_t wc = 0;
    const size_t used = std::mbrtowc(&wc, &c, 1, &state);
    if (used == static_cast<size_t>(-2)) continue;  // more bytes of this character to come
    if (used == static_cast<size_t>(-1)) {          // not UTF-8: the byte alone
      state = mbstate_t{};
      wc = static_cast<unsigned char>(c);
    }
    *out = wc;
    return 1;
  }
}

// libedit reads and writes characters in the locale's encoding: UTF-8 it must be, whatever the
// environment says (only the character type category changes).
void use_utf8_characters() {
  const char* set = std::setlocale(LC_CTYPE, "");
  if (set == nullptr || std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) std::setlocale(LC_CTYPE, "C.UTF-8");
}

}  // namespace

struct LineEditor::Editline {
  EditLine* el = nullptr;
  History* history = nullptr;
  ~Editline() {
    if (el != nullptr) el_end(el);
    if (history != nullptr) history_end(history);
  }
};

LineEditor::LineEditor(bool terminal, std::string history_file)
    : terminal_(terminal), history_file_(std::move(history_file)) {
  if (!terminal_) return;
  use_utf8_characters();
  el_ = std::make_unique<Editline>();
  el_->el = el_init("owl", stdin, stdout, stderr);
  el_->history = history_init();
  if (el_->el == nullptr || el_->history == nullptr) {  // no usable terminal after all: plain lines
    el_.reset();
    terminal_ = false;
    return;
  }
  HistEvent ev;
  history(el_->history, &ev, H_SETSIZE, kHistorySize);
  history(el_->history, &ev, H_SETUNIQUE, 1);
  if (!history_file_.empty()) history(el_->history, &ev, H_LOAD, history_file_.c_str());
  el_set(el_->el, EL_EDITOR, "emacs");
  el_set(el_->el, EL_PROMPT, current_prompt);
  el_set(el_->el, EL_HIST, history, el_->history);
  el_set(el_->el, EL_GETCFN, read_char);
  el_source(el_->el, nullptr);  // the user's ~/.editrc, as other libedit programs read it
}

LineEditor::~LineEditor() = default;

LineEditor::Read LineEditor::read(const std::string& prompt, std::string& line, bool& was_empty) {
  line.clear();
  was_empty = true;
  if (!terminal_) {
    if (!std::getline(std::cin, line)) return Read::end;
    return Read::line;
  }
  g_prompt = prompt;
  int count = 0;
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &g_wait_mask);
  sigdelset(&g_wait_mask, SIGINT);
  const char* text = el_gets(el_->el, &count);
  const int read_errno = errno;
  pthread_sigmask(SIG_SETMASK, &g_wait_mask, nullptr);
  if (text == nullptr) {
    if (count < 0 && read_errno == EINTR) {  // Ctrl-C: what was typed so far is dropped
      g_interrupted = 0;
      const LineInfo* info = el_line(el_->el);
      was_empty = info->lastchar == info->buffer;
      el_reset(el_->el);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      return Read::interrupted;
    }
    std::fputc('\n', stdout);  // Ctrl-D: leave the terminal on a fresh line
    std::fflush(stdout);
    return Read::end;
  }
  line.assign(text, static_cast<size_t>(count));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return Read::line;
}

void LineEditor::remember(const std::string& entry) {
  if (!terminal_ || entry.empty()) return;
  HistEvent ev;
  history(el_->history, &ev, H_ENTER, entry.c_str());
  if (history_file_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(history_file_).parent_path(), ec);
  const std::string tmp = history_file_ + ".tmp";
  if (history(el_->history, &ev, H_SAVE, tmp.c_str()) >= 0) std::filesystem::rename(tmp, history_file_, ec);
}

InterruptGuard::InterruptGuard() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  g_interrupted = 0;
}

InterruptGuard::~InterruptGuard() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

bool InterruptGuard::pending() { return g_interrupted != 0; }
void InterruptGuard::clear() { g_interrupted = 0; }

}  // namespace owl::app
