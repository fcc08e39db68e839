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
  float scale = 1.0f;      // the adapter's own scale (alpha/rank) times the user's (--lora-scale)
  float own_scale = 1.0f;  // the adapter's own scale alone: a request's scale multiplies it
  int32_t adapter = 0;     // which of the model's attached adapters (the order of --lora)
};

// y (n, out) += scale·u·Bᵀ with u (n, rank) = x·Aᵀ (each value ops::dot8), kept in u when it is not null. With row_scale,
// token t's term is weighted by own_scale·row_scale[t] instead (the scale the request of that
// token asked for: a server batches requests with different ones). Every sum runs in a fixed order;
// threads split the tokens.
void add_lora(float* y, const float* x, int64_t n, int64_t in, int64_t out, const LoraTerm& lora, float* u,
              ThreadPool& pool, const float* row_scale = nullptr);

// add_lora's gradients in training: dx (required) += du·A, dA += duᵀ·x, dB += scale·dyᵀ·u, with du = scale·dy·B
// and u = x·Aᵀ as add_lora kept it. Every sum runs over its terms in train/grad_ops.h lora_backward's
// order, so the numbers are its numbers for any thread count; threads split the tokens, then B's
// rows, then blocks of x's columns.
void add_lora_backward(float* dx, float* da, float* db, const float* dy, const float* x, const float* u, int64_t n,
                       int64_t in, int64_t out, const LoraTerm& lora, ThreadPool& pool);

// y = x·Wᵀ (ops::matmul) plus each adapter's term.
void linear(float* y, const Weight& w, const float* x, int64_t n, std::span<const LoraTerm> loras, ThreadPool& pool);

}  // namespace owl::ops
