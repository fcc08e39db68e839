// Training progress lines (app/train_progress.h).
#include "train_progress.h"

#include <cmath>

#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace owl::app {

std::string duration(double s) {
  const long long t = std::llround(s);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60) : fmt::format("{}m{:02}s", t / 60, t % 60);
}

TrainProgress::TrainProgress(bool json) : json_(json), tty_(::isatty(STDERR_FILENO) != 0) {}

void TrainProgress::operator()(const train::StepReport& s) {
  elapsed_ += s.seconds;
  tokens_ += s.tokens;
  if (first_step_ < 0) first_step_ = s.step - 1;
  const double per_step = elapsed_ / static_cast<double>(s.step - first_step_);
  const double eta = per_step * static_cast<double>(s.total - s.step);
  const double rate = static_cast<double>(tokens_) / elapsed_;
  if (json_) {
    nlohmann::json line = {{"step", s.step}, {"total", s.total}, {"loss", s.loss}, {"lr", s.lr},
                           {"grad_norm", s.grad_norm}, {"tokens_per_second", rate}, {"seconds", elapsed_},
                           {"saved", s.saved}};
    if (s.val_loss) line["val_loss"] = *s.val_loss;
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  std::string text = fmt::format("step {}/{} | loss {:.4f} | lr {:.3g} | {:.0f} tok/s | ETA {}", s.step, s.total, s.loss,
                                 s.lr, rate, duration(eta));
  if (s.val_loss) text += fmt::format(" | val loss {:.4f}", *s.val_loss);
  if (s.saved) text += " | saved";
  std::fprintf(stderr, "%s%s", text.c_str(), tty_ && !s.val_loss && !s.saved && s.step < s.total ? "\r" : "\n");
}

}  // namespace owl::app
