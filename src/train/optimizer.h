// AdamW with decoupled weight decay (PyTorch's torch.optim.AdamW), learning-rate schedules
// (constant; cosine with linear warmup, as transformers' get_cosine_schedule_with_warmup) and
// clipping by the global gradient norm (torch.nn.utils.clip_grad_norm_), over a LoRA adapter or
// every weight of a model (full training).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/lora_adapter.h"
#include "train/train_pass.h"

namespace owl::train {

enum class LrSchedule { constant, cosine };

struct ScheduleOptions {
  LrSchedule kind = LrSchedule::constant;
  double lr = 1e-5;
  int64_t warmup = 0;  // steps of linear warmup from 0
  int64_t total = 0;   // optimizer steps in all (cosine reaches 0 there)
};

// The rate of the optimizer step with 0-based index s: lr·s/warmup during warmup, then constant or
// lr·0.5·(1 + cos(pi·(s − warmup)/(total − warmup))).
double learning_rate(const ScheduleOptions& o, int64_t s);

// Every gradient tensor of a run, in the order of its parameters (A then B of each module; a full
// run's in ModelGrads order: token_embd, output_norm, output, then each layer's).
std::vector<std::vector<float>*> gradient_tensors(LoraGrads& grads);
std::vector<std::vector<float>*> gradient_tensors(ModelGrads& grads);

// sqrt of the sum of every gradient element squared, over all tensors.
double global_norm(const std::vector<std::vector<float>*>& grads);
double global_norm(LoraGrads& grads);
// Scales every gradient by min(1, max_norm / (norm + 1e-6)); returns that factor.
double clip_by_global_norm(const std::vector<std::vector<float>*>& grads, double norm, double max_norm);
double clip_by_global_norm(LoraGrads& grads, double norm, double max_norm);

// One tensor the optimizer updates, with its gradient (the same size) and whether weight decay
// applies to it (not to norm weights, as in most pre-training recipes).
struct ParamTensor {
  std::span<float> value;
  std::span<const float> grad;
  bool decay = true;
};

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class AdamW {
 public:
  explicit AdamW(AdamWOptions o) : o_(o) {}
  // One step at rate lr over the tensors (the same list, in the same order, at every step).
  void step(std::span<const ParamTensor> params, double lr);
  // The same over every lora_A and lora_B tensor of the adapter.
  void step(LoraAdapter& adapter, const LoraGrads& grads, double lr);
  int64_t steps() const { return t_; }

  // The state, for checkpoints: the moments per tensor (A then B of each module) and the step count.
  std::vector<std::vector<float>>& first_moments() { return m_; }
  std::vector<std::vector<float>>& second_moments() { return v_; }
  void set_steps(int64_t t) { t_ = t; }

 private:
  AdamWOptions o_;
  int64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;
};

}  // namespace owl::train
