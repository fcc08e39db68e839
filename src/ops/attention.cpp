// Attention, one (token, head) pair per work item: scores = q·K / sqrt(d), softmax, weighted sum
// of V, with the active kernels (kernels/cpu: dot_rows, weighted_sum). Up to kMaxQueries
// consecutive queries of a head go together, so each key and value row is read once for all of
// them; only their rows of scores are held per thread: no n² buffer.
#include "ops/attention.h"

#include <algorithm>
#include <limits>

#include "base/error.h"
#include "kernels/cpu/kernels.h"
#include "ops/elementwise.h"

namespace owl::ops {

void attention(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t pos0,
               int64_t n_tokens, const AttentionShape& shape, float* scratch, ThreadPool& pool, float* probs) {
  constexpr int64_t kBlock = kernels::kMaxQueries;
  const int64_t d = shape.head_dim;
  const int64_t q_stride = shape.n_head * d;
  const int64_t kv_stride = shape.n_head_kv * d;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t n_ctx_used = pos0 + n_tokens;
  const int64_t n_blocks = (n_tokens + kBlock - 1) / kBlock;
  const kernels::KernelTable& kt = kernels::active();
  const float ninf = -std::numeric_limits<float>::infinity();
  if (probs != nullptr && pos0 != 0) fail("attention weights are kept only for a whole sequence (from position 0)");
  // Head-major items: each thread gets whole heads with early and late (long) query blocks alike.
  pool.parallel_for(shape.n_head * n_blocks, [&](int64_t begin, int64_t end, int thread) {
    float* scores = scratch + thread * kBlock * n_ctx_used;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t h = item / n_blocks;
      const int64_t t0 = (item % n_blocks) * kBlock;
      const auto nq = static_cast<int>(std::min(kBlock, n_tokens - t0));
      const int64_t kv_h = h / group;
      const auto first_of = [&](int64_t pos) { return shape.window > 0 ? std::max<int64_t>(0, pos - shape.window + 1) : 0; };
      const int64_t first = first_of(pos0 + t0);
      const int64_t n_keys = pos0 + t0 + nq - first;  // keys of the block's last query
      const float* k = k_cache + first * kv_stride + kv_h * d;
      const float* v = v_cache + first * kv_stride + kv_h * d;
      kt.dot_rows(q + t0 * q_stride + h * d, q_stride, nq, k, kv_stride, n_keys, d, shape.scale, scores, n_ctx_used);
      for (int j = 0; j < nq; ++j) {
        // Keys outside query j's range (later positions, or before its window) weigh nothing.
        float* row = scores + j * n_ctx_used;
        const int64_t lo = first_of(pos0 + t0 + j) - first;
        const int64_t hi = pos0 + t0 + j + 1 - first;
        for (int64_t p = 0; p < lo; ++p) row[p] = ninf;
        for (int64_t p = hi; p < n_keys; ++p) row[p] = ninf;
        if (shape.softcap > 0.0f) softcap(row + lo, hi - lo, shape.softcap);
        softmax(row, n_keys);
        if (probs != nullptr) std::copy(row + lo, row + hi, probs + (h * n_tokens + t0 + j) * n_tokens + first + lo);
      }
      kt.weighted_sum(scores, n_ctx_used, nq, v, kv_stride, n_keys, d, out + t0 * q_stride + h * d, q_stride);
    }
  }, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, kBlock * n_ctx_used * d)));
}

}  // namespace owl::ops
