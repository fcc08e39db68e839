// Causal grouped-query attention of a batch of consecutive positions against a KV cache.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace owl::ops {

struct AttentionShape {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;  // applied to q·k (1/sqrt(head_dim) for Llama)
};

// q, out: (n_tokens, n_head*head_dim). k_cache, v_cache: (n_ctx, n_head_kv*head_dim), already
// holding positions [0, pos0 + n_tokens). Token t sits at position pos0 + t and attends to
// positions [0, pos0 + t]. scratch: at least pool.size() * (pos0 + n_tokens) floats.
void attention(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t pos0,
               int64_t n_tokens, const AttentionShape& shape, float* scratch, ThreadPool& pool);

}  // namespace owl::ops
