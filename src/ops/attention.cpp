// Attention, one (token, head) pair per work item: scores = q·K / sqrt(d), softmax, weighted sum
// of V, with the active kernels (kernels/cpu: dot_rows, weighted_sum). Only one row of scores per
// thread is held: no n² buffer.
#include "ops/attention.h"

#include <algorithm>

#include "kernels/cpu/kernels.h"
#include "ops/elementwise.h"

namespace owl::ops {

void attention(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t pos0,
               int64_t n_tokens, const AttentionShape& shape, float* scratch, ThreadPool& pool) {
  const int64_t d = shape.head_dim;
  const int64_t q_stride = shape.n_head * d;
  const int64_t kv_stride = shape.n_head_kv * d;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t n_ctx_used = pos0 + n_tokens;
  const kernels::KernelTable& kt = kernels::active();
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
      kt.dot_rows(qh, k, kv_stride, n_keys, d, shape.scale, scores);
      if (shape.softcap > 0.0f) softcap(scores, n_keys, shape.softcap);
      softmax(scores, n_keys);
      kt.weighted_sum(scores, v, kv_stride, n_keys, d, out + t * q_stride + h * d);
    }
  }, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, n_ctx_used * d)));
}

}  // namespace owl::ops
