// ProgressBar: stderr only, so stdout stays machine-readable.
#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>

#include "base/human_units.h"

namespace owl::app {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(uint64_t done, uint64_t total) {
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\r%s [%s] %3d%% %s/%s %s/s ETA %.0fs ", label_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), human_bytes(done).c_str(), human_bytes(total).c_str(),
                 human_bytes(static_cast<uint64_t>(rate)).c_str(), eta);
    std::fflush(stderr);
    open_ = true;
    return;
  }
  const int tenth = static_cast<int>(frac * 10);
  if (tenth == last_tenth_) return;
  last_tenth_ = tenth;
  std::fprintf(stderr, "%s: %d%% (%s of %s, %s/s)\n", label_.c_str(), tenth * 10, human_bytes(done).c_str(),
               human_bytes(total).c_str(), human_bytes(static_cast<uint64_t>(rate)).c_str());
}

void ProgressBar::finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace owl::app
