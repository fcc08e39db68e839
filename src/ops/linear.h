// A projection with its LoRA adapters: y = x·Wᵀ + Σ scale·(x·Aᵀ)·Bᵀ. Where an adapter joins a
// projection, for inference (models/decoder.cpp) and training (train/train_pass.cpp) alike.
#pragma once

#include <cstdint>
#include <span>

#include "base/thread_pool.h"
#include "tensor/weight.h"

namespace owl::ops {

struct LoraTerm {
  const float* a = nullptr;  // (rank, in)
  const float* b = nullptr;  // (out, rank)
  int64_t rank = 0;
  float scale = 1.0f;
};

// y (n, out) += scale·u·Bᵀ with u (n, rank) = x·Aᵀ, kept in u when it is not null. Every sum runs
// in a fixed order; threads split the tokens.
void add_lora(float* y, const float* x, int64_t n, int64_t in, int64_t out, const LoraTerm& lora, float* u,
              ThreadPool& pool);

// y = x·Wᵀ (ops::matmul) plus each adapter's term.
void linear(float* y, const Weight& w, const float* x, int64_t n, std::span<const LoraTerm> loras, ThreadPool& pool);

}  // namespace owl::ops
