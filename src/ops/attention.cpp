// Reference attention, one (token, head) pair per work item: scores = q·K / sqrt(d), softmax,
// weighted sum of V. The arithmetic order mirrors llama2.c's run.c.
#include "ops/attention.h"

#include <algorithm>

#include "kernels/cpu/ref/vec.h"
#include "ops/elementwise.h"

namespace owl::ops {

void attention(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t pos0,
               int64_t n_tokens, const AttentionShape& shape, float* scratch, ThreadPool& pool) {
  const int64_t d = shape.head_dim;
  const int64_t q_stride = shape.n_head * d;
  const int64_t kv_stride = shape.n_head_kv * d;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t n_ctx_used = pos0 + n_tokens;
  pool.parallel_for(n_tokens * shape.n_head, [&](int64_t begin, int64_t end, int thread) {
    float* scores = scratch + thread * n_ctx_used;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / shape.n_head;
      const int64_t h = item % shape.n_head;
      const int64_t kv_h = h / group;
      const int64_t pos = pos0 + t;
      const int64_t first = shape.window > 0 ? std::max<int64_t>(0, pos - shape.window + 1) : 0;
      const int64_t n_keys = pos + 1 - first;
      const float* qh = q + t * q_stride + h * d;
      const float* k = k_cache + first * kv_stride + kv_h * d;
      const float* v = v_cache + first * kv_stride + kv_h * d;
      for (int64_t p = 0; p < n_keys; ++p) scores[p] = kernels::ref::dot_f32(qh, k + p * kv_stride, d) * shape.scale;
      if (shape.softcap > 0.0f) softcap(scores, n_keys, shape.softcap);
      softmax(scores, n_keys);
      float* oh = out + t * q_stride + h * d;
      std::fill(oh, oh + d, 0.0f);
      for (int64_t p = 0; p < n_keys; ++p) kernels::ref::axpy_f32(oh, scores[p], v + p * kv_stride, d);
    }
  }, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, n_ctx_used * d)));
}

}  // namespace owl::ops
