// Causal grouped-query attention of a batch of consecutive positions against a KV cache.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace owl::ops {

// Key or value rows of a cache: row p (all KV heads) starts at data + p*row_bytes and holds
// n_head_kv*head_dim values of `type`: f32, f16 or q8_0 (whose 32-value blocks never straddle heads).
struct KvRows {
  const void* data = nullptr;
  DType type = DType::f32;
  size_t row_bytes = 0;
};

struct AttentionShape {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;       // applied to q·k (1/sqrt(head_dim) for Llama)
  float softcap = 0.0f;     // Gemma 2: scores = c·tanh(scores/c) after scaling; 0 = off
  int64_t window = 0;       // sliding window: query i sees keys j with 0 <= i - j < window; 0 = all
};

// q, out: (n_tokens, n_head*head_dim). k, v: (n_ctx, n_head_kv*head_dim), already holding
// positions [0, pos0 + n_tokens). Token t sits at position pos0 + t and attends to
// positions [0, pos0 + t] (or the last `window` of them).
// scratch: at least pool.size() * kernels::kMaxQueries * (pos0 + n_tokens) floats.
// probs (training, pos0 = 0): when given, also the attention weights, probs[(h·n_tokens + t)·n_tokens
// + p]; the entries a query does not see are not written (ops::attention_backward never reads them).
void attention(float* out, const float* q, const KvRows& k, const KvRows& v, int64_t pos0, int64_t n_tokens,
               const AttentionShape& shape, float* scratch, ThreadPool& pool, float* probs = nullptr);

}  // namespace owl::ops
