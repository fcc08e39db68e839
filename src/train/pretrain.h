// owl train: full-parameter training of a new Llama-architecture model from scratch — random init
// from the seed, batches of whole examples (train/batches.h), gradient accumulation, AdamW with
// warmup and schedule, clipping, validation, atomic checkpoints (weights + AdamW moments + step)
// that --resume continues exactly, and a GGUF at the end with the tokenizer and the recipe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/thread_pool.h"
#include "formats/gguf_value.h"
#include "train/dataset.h"
#include "train/finetune.h"
#include "train/trainable_model.h"

namespace owl::train {

struct PretrainOptions {
  std::string output;  // the GGUF; checkpoints go to OUTPUT.checkpoint/
  ModelShape shape;
  int64_t iters = 1000;  // optimizer steps
  int64_t batch_size = 16;
  int64_t grad_accum = 1;
  ScheduleOptions schedule;  // lr, kind, warmup (total is set from iters)
  AdamWOptions adamw;
  double grad_clip = 1.0;
  double init_std = 0.02;
  uint64_t seed = 0;
  int64_t save_every = 0;  // steps between checkpoints; 0: only at the end
  int64_t val_every = 0;   // steps between validation losses; 0: only at the end
  bool resume = false;
  bool grad_checkpoint = false;
  // Written into the GGUF: the tokenizer.ggml.* keys and general.* (name, license, description...).
  std::vector<std::pair<std::string, gguf::Value>> metadata;
};

struct PretrainResult {
  int64_t steps = 0;
  int64_t n_params = 0;
  double first_loss = 0.0;
  double last_loss = 0.0;
  std::optional<double> last_val_loss;
};

// Trains and writes options.output; on_step reports each step (the same report as owl finetune's).
PretrainResult pretrain(const DataSplit& data, const PretrainOptions& options, int32_t pad, ThreadPool& pool,
                        const std::function<void(const StepReport&)>& on_step);

}  // namespace owl::train
