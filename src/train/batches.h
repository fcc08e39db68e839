// The batches of a training run, by number: micro-batch m is batch m mod B of epoch m / B (B
// batches per epoch, examples shuffled per epoch from the seed), so a step's data follows from its
// number alone and a checkpoint needs no data position beyond the step count. Shared by owl
// finetune and owl train.
#pragma once

#include <cstdint>
#include <vector>

#include "base/error.h"
#include "train/dataset.h"
#include "train/optimizer.h"
#include "train/train_pass.h"

namespace owl::train {

// The example order of one epoch: a Fisher-Yates shuffle from (seed, epoch), or file order.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle);

// Examples order[first .. first+count) padded with pad to the longest of them (padding is never a target).
TrainBatch make_batch(const Dataset& d, const std::vector<size_t>& order, size_t first, size_t count, int32_t pad);

class Batches {
 public:
  Batches(const Dataset& d, int64_t batch_size, uint64_t seed, bool shuffle, int32_t pad);
  int64_t per_epoch() const { return static_cast<int64_t>((d_.examples.size() + size_ - 1) / size_); }
  TrainBatch get(int64_t m);
  // The micro-batches of optimizer step `step` (0-based) with grad_accum of them per step, and the
  // positions they hold (padding included: what the step processes).
  std::vector<TrainBatch> step(int64_t step, int64_t grad_accum, int64_t& positions);

 private:
  const Dataset& d_;
  size_t size_;
  uint64_t seed_;
  bool shuffle_;
  int32_t pad_;
  int64_t epoch_ = -1;
  std::vector<size_t> order_;
};

// The mean loss of a dataset through the pass (batches of batch_size in file order, no gradients).
double dataset_loss(TrainPass& pass, const Dataset& data, int64_t batch_size, int32_t pad);

// One optimizer step's loss and gradients over its micro-batches: each micro-batch's mean loss and
// gradient weighted by its share of the step's targets (so the step's loss is the mean over all of
// them). Grads is LoraGrads or ModelGrads; owl::Error when no micro-batch has a target.
template <typename Grads>
double step_gradients(TrainPass& pass, const std::vector<TrainBatch>& micro, Grads& grads) {
  int64_t step_targets = 0;
  for (const TrainBatch& b : micro) step_targets += b.n_targets();
  Grads part;
  double loss = 0.0;
  bool first = true;
  for (const TrainBatch& b : micro) {
    const int64_t n = b.n_targets();
    if (n == 0) continue;
    const double share = static_cast<double>(n) / static_cast<double>(step_targets);
    loss += share * pass.loss_and_grads(b, first ? grads : part);
    const std::vector<std::vector<float>*> dst = gradient_tensors(grads);
    if (first) {
      if (share != 1.0) {
        for (std::vector<float>* g : dst) {
          for (float& x : *g) x = static_cast<float>(share * x);
        }
      }
      first = false;
      continue;
    }
    const std::vector<std::vector<float>*> src = gradient_tensors(part);
    for (size_t i = 0; i < dst.size(); ++i) {
      for (size_t j = 0; j < dst[i]->size(); ++j) (*dst[i])[j] += static_cast<float>(share * (*src[i])[j]);
    }
  }
  if (first) fail("a training step's batches hold no target tokens");
  return loss;
}

}  // namespace owl::train
