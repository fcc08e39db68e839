// Attention, one (token, head) pair per work item: scores = q·K / sqrt(d), softmax, weighted sum
// of V, with the active kernels (kernels/cpu: dot_rows, weighted_sum and their f16 and q8_0 forms
// for typed caches). Up to kMaxQueries consecutive queries of a head go together, so each key and
// value row is read once for all of them; only their rows of scores are held per thread: no n² buffer.
#include "ops/attention.h"

#include <algorithm>
#include <limits>

#include "base/error.h"
#include "kernels/cpu/kernels.h"
#include "ops/elementwise.h"
#include "tensor/blocks.h"

namespace owl::ops {

namespace {

// The kernels of one cache type, each taking its rows from `first` on, starting at KV head kv_h.
struct TypedRows {
  const kernels::KernelTable& kt;
  const KvRows& rows;
  int64_t d;

  const uint8_t* at(int64_t first, int64_t kv_h) const {
    return static_cast<const uint8_t*>(rows.data) + static_cast<size_t>(first) * rows.row_bytes +
           row_bytes(rows.type, kv_h * d);
  }
  int64_t stride() const { return static_cast<int64_t>(rows.row_bytes / dtype_traits(rows.type).block_bytes); }

  void scores(const float* q, int64_t q_stride, int nq, int64_t first, int64_t kv_h, int64_t n, float scale, float* out,
              int64_t out_stride) const {
    const uint8_t* k = at(first, kv_h);
    switch (rows.type) {
      case DType::f16:
        return kt.dot_rows_f16(q, q_stride, nq, reinterpret_cast<const uint16_t*>(k), stride(), n, d, scale, out,
                               out_stride);
      case DType::q8_0:
        return kt.dot_rows_q8_0(q, q_stride, nq, reinterpret_cast<const BlockQ8_0*>(k), stride(), n, d, scale, out,
                                out_stride);
      default:
        return kt.dot_rows(q, q_stride, nq, reinterpret_cast<const float*>(k), stride(), n, d, scale, out, out_stride);
    }
  }

  void weighted(const float* w, int64_t w_stride, int nq, int64_t first, int64_t kv_h, int64_t n, float* out,
                int64_t out_stride) const {
    const uint8_t* v = at(first, kv_h);
    switch (rows.type) {
      case DType::f16:
        return kt.weighted_sum_f16(w, w_stride, nq, reinterpret_cast<const uint16_t*>(v), stride(), n, d, out,
                                   out_stride);
      case DType::q8_0:
        return kt.weighted_sum_q8_0(w, w_stride, nq, reinterpret_cast<const BlockQ8_0*>(v), stride(), n, d, out,
                                    out_stride);
      default:
        return kt.weighted_sum(w, w_stride, nq, reinterpret_cast<const float*>(v), stride(), n, d, out, out_stride);
    }
  }
};

}  // namespace

void attention(float* out, const float* q, const KvRows& k_rows, const KvRows& v_rows, int64_t pos0, int64_t n_tokens,
               const AttentionShape& shape, float* scratch, ThreadPool& pool, float* probs) {
  constexpr int64_t kBlock = kernels::kMaxQueries;
  const int64_t d = shape.head_dim;
  const int64_t q_stride = shape.n_head * d;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t n_ctx_used = pos0 + n_tokens;
  const int64_t n_blocks = (n_tokens + kBlock - 1) / kBlock;
  const kernels::KernelTable& kt = kernels::active();
  const float ninf = -std::numeric_limits<float>::infinity();
  if (probs != nullptr && pos0 != 0) fail("attention weights are kept only for a whole sequence (from position 0)");
  const TypedRows keys{kt, k_rows, d}, values{kt, v_rows, d};
  const auto first_of = [&](int64_t pos) {
    return shape.window > 0 ? std::max<int64_t>(0, pos - shape.window + 1) : 0;
  };
  // A block of queries that read the same key and value rows: nq queries (q_step apart) at positions pos,
  // pos + pos_step, ... against KV head kv_h, written to out (out_step apart); query j's weights go to
  // probs + j * n_tokens when probs is set.
  struct Block {
    const float* q;
    int64_t q_step;
    int nq;
    int64_t pos, pos_step, kv_h;
    float* out;
    int64_t out_step;
    float* probs;
  };
  // Decoding one position, a block is the query heads that share a KV head, so each cached row is read
  // once per group instead of once per head (the kernels give a query the same numbers whatever shares
  // the call). Otherwise a block is up to kBlock consecutive positions of one head, head-major: each
  // thread gets whole heads with early and late (long) query blocks alike.
  const bool by_group = n_tokens == 1 && group > 1 && probs == nullptr;
  const int64_t per_kv = (group + kBlock - 1) / kBlock;
  const auto block_of = [&](int64_t item) -> Block {
    if (by_group) {
      const int64_t kv_h = item / per_kv;
      const int64_t h0 = kv_h * group + (item % per_kv) * kBlock;
      const auto nq = static_cast<int>(std::min(kBlock, (kv_h + 1) * group - h0));
      return {q + h0 * d, d, nq, pos0, 0, kv_h, out + h0 * d, d, nullptr};
    }
    const int64_t h = item / n_blocks;
    const int64_t t0 = (item % n_blocks) * kBlock;
    const auto nq = static_cast<int>(std::min(kBlock, n_tokens - t0));
    return {q + t0 * q_stride + h * d,
            q_stride,
            nq,
            pos0 + t0,
            1,
            h / group,
            out + t0 * q_stride + h * d,
            q_stride,
            probs != nullptr ? probs + (h * n_tokens + t0) * n_tokens : nullptr};
  };
  pool.parallel_for(
      by_group ? shape.n_head_kv * per_kv : shape.n_head * n_blocks,
      [&](int64_t begin, int64_t end, int thread) {
        float* scores = scratch + thread * kBlock * n_ctx_used;
        for (int64_t item = begin; item < end; ++item) {
          const Block b = block_of(item);
          const int64_t first = first_of(b.pos);
          const int64_t n_keys = b.pos + (b.nq - 1) * b.pos_step + 1 - first;  // keys of the block's last query
          keys.scores(b.q, b.q_step, b.nq, first, b.kv_h, n_keys, shape.scale, scores, n_ctx_used);
          for (int j = 0; j < b.nq; ++j) {
            // Keys outside query j's range (later positions, or before its window) weigh nothing.
            float* row = scores + j * n_ctx_used;
            const int64_t pos = b.pos + j * b.pos_step;
            const int64_t lo = first_of(pos) - first;
            const int64_t hi = pos + 1 - first;
            for (int64_t p = 0; p < lo; ++p) row[p] = ninf;
            for (int64_t p = hi; p < n_keys; ++p) row[p] = ninf;
            if (shape.softcap > 0.0f) softcap(row + lo, hi - lo, shape.softcap);
            softmax(row, n_keys);
            if (b.probs != nullptr) std::copy(row + lo, row + hi, b.probs + j * n_tokens + first + lo);
          }
          values.weighted(scores, n_ctx_used, b.nq, first, b.kv_h, n_keys, b.out, b.out_step);
        }
      },
      min_items(kBlock * n_ctx_used * d, int64_t{1} << 14));
}

}  // namespace owl::ops
