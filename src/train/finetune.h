// A LoRA fine-tuning run (owl finetune): adapter init or --init-adapter, batches of examples
// (shuffled per epoch from the seed), gradient accumulation, AdamW with its schedule and clipping,
// validation, atomic checkpoints (adapter + optimizer moments + data position) every N steps, and
// --resume that continues exactly where the checkpoint left off.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "models/lora_adapter.h"
#include "train/dataset.h"
#include "train/optimizer.h"

namespace owl::train {

struct FinetuneOptions {
  std::string output;  // the adapter directory; checkpoints go to OUTPUT/checkpoint
  AdapterFormat format = AdapterFormat::peft;
  int64_t iters = 0;   // optimizer steps; 0: epochs over the training set
  int64_t epochs = 1;
  int64_t batch_size = 4;
  int64_t grad_accum = 1;
  ScheduleOptions schedule;  // lr, kind, warmup (total is set from the step count)
  AdamWOptions adamw;
  double grad_clip = 0.0;  // max global norm; 0: no clipping
  int64_t rank = 8;
  float alpha = 16.0f;
  bool rslora = false;
  std::vector<LoraTarget> targets = {LoraTarget::q, LoraTarget::v};
  int64_t first_layer = 0;  // adapted layers [first_layer, last_layer]; last -1: the last layer
  int64_t last_layer = -1;
  uint64_t seed = 0;
  bool shuffle = true;
  int64_t save_every = 0;  // steps between checkpoints; 0: only at the end
  int64_t val_every = 0;   // steps between validation losses; 0: only at the end
  bool resume = false;
  bool grad_checkpoint = false;  // recompute each layer's activations in backward
  std::string init_from;  // --init-adapter: start from this adapter instead of a random init
  std::string dump_grads;    // write the step-0 loss and every LoRA gradient here (safetensors)
};

struct StepReport {
  int64_t step = 0;   // 1-based, after the update
  int64_t total = 0;  // steps in all
  double loss = 0.0;  // mean over the step's targets
  double grad_norm = 0.0;
  double lr = 0.0;
  int64_t tokens = 0;    // positions the step processed
  double seconds = 0.0;  // the step's wall time
  std::optional<double> val_loss;
  bool saved = false;
};

struct FinetuneResult {
  int64_t steps = 0;
  double first_loss = 0.0;
  double last_loss = 0.0;
  std::optional<double> first_val_loss;
  std::optional<double> last_val_loss;
};

// The initial adapter: A ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT's Kaiming-uniform default), B = 0,
// drawn from the seed.
LoraAdapter init_adapter(const Model& model, const FinetuneOptions& o);

FinetuneResult finetune(const Model& model, const DataSplit& data, const FinetuneOptions& o, int32_t pad,
                        ThreadPool& pool, const std::function<void(const StepReport&)>& on_step);

}  // namespace owl::train
