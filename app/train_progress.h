// The progress of a training run (owl finetune, owl train): a line per step on stderr (rewritten in
// place on a terminal) with loss, learning rate, tokens/s and ETA, and with --json the same as a
// JSON line on stdout.
#pragma once

#include <string>

#include "train/finetune.h"

namespace owl::app {

std::string duration(double seconds);  // "4m05s", "1h02m"

class TrainProgress {
 public:
  explicit TrainProgress(bool json);
  void operator()(const train::StepReport& s);
  double elapsed() const { return elapsed_; }

 private:
  bool json_;
  bool tty_;
  double elapsed_ = 0.0;
  int64_t tokens_ = 0;
  int64_t first_step_ = -1;  // the step before this process's first (a resumed run starts late)
};

}  // namespace owl::app
