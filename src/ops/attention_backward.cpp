// Attention's backward pass (ops/attention_backward.h). Per head, with P the kept weights and dO
// the gradient of the output:
//   dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(P ∘ dP)) (· the soft-cap's derivative) · scale,
//   dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dO.
// dP and dQ run over blocks of kMaxQueries queries (dot_rows, weighted_sum against the group's
// key and value rows); dK and dV over blocks of keys, with dS and P transposed so that a key's
// weights are one row (weighted_sum against the head's query and dO rows). With a sliding window
// each block reads only the keys (queries) its window reaches.
#include "ops/attention_backward.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace owl::ops {

namespace {

// out[r·out_stride + e] += sums[r·d + e] for nq rows of d values.
void add_sums(float* out, int64_t out_stride, const float* sums, int nq, int64_t d) {
  for (int r = 0; r < nq; ++r) {
    for (int64_t e = 0; e < d; ++e) out[r * out_stride + e] += sums[r * d + e];
  }
}

// A thread's buffers, kept from call to call (each layer of each step calls with the same sizes).
struct Scratch {
  std::vector<float> dp, ds, scores;  // kMaxQueries rows of n: dP, dS, the scaled scores (soft-cap)
  std::vector<float> dst, pt;         // dSᵀ and Pᵀ, n x n
  std::vector<float> sums;            // kMaxQueries rows of head_dim
};

}  // namespace

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int64_t n_seq, int64_t n, const AttentionShape& shape,
                        ThreadPool& pool) {
  constexpr int kBlock = kernels::kMaxQueries;
  const kernels::KernelTable& kt = kernels::active();
  const int64_t d = shape.head_dim, qd = shape.n_head * d, kd = shape.n_head_kv * d;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t window = shape.window > 0 ? shape.window : n;  // query i sees keys (i - window, i]
  const auto sees = [&](int64_t i, int64_t j) { return j <= i && i - j < window; };
  // An item's multiply-adds: four per query-key pair a head reaches, per dimension (twice the
  // causal mask's pairs: an upper bound).
  const int64_t item_cost = 4 * group * n * std::min(n, window) * d;
  pool.parallel_for(
      n_seq * shape.n_head_kv,
      [&](int64_t item0, int64_t item1, int) {
        thread_local Scratch s;
        s.dp.resize(static_cast<size_t>(kBlock * n));
        s.ds.resize(s.dp.size());
        s.scores.resize(s.dp.size());
        s.sums.resize(static_cast<size_t>(kBlock * d));
        for (int64_t item = item0; item < item1; ++item) {
          const int64_t b = item / shape.n_head_kv, g = item % shape.n_head_kv;
          const int64_t at = b * n;  // the sequence's first row
          const float* kg = k + at * kd + g * d;
          const float* vg = v + at * kd + g * d;
          for (int64_t h = g * group; h < (g + 1) * group; ++h) {
            const float* qh = q + at * qd + h * d;
            const float* doh = dout + at * qd + h * d;
            const float* ph = probs + (b * shape.n_head + h) * n * n;
            // Entries no query writes below stay zero: a key's weights from queries that do not see it.
            s.dst.assign(static_cast<size_t>(n * n), 0.0f);
            s.pt.assign(static_cast<size_t>(n * n), 0.0f);
            for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
              const auto nq = static_cast<int>(std::min<int64_t>(kBlock, n - i0));
              const int64_t first = std::max<int64_t>(0, i0 - window + 1), n_keys = i0 + nq;  // keys [first, n_keys)
              kt.dot_rows(doh + i0 * qd, qd, nq, vg + first * kd, kd, n_keys - first, d, 1.0f, s.dp.data() + first, n);
              if (shape.softcap > 0.0f) {
                kt.dot_rows(qh + i0 * qd, qd, nq, kg + first * kd, kd, n_keys - first, d, shape.scale,
                            s.scores.data() + first, n);
              }
              for (int r = 0; r < nq; ++r) {
                const int64_t i = i0 + r;
                const float* p = ph + i * n;
                const float* dpr = s.dp.data() + r * n;
                float* dsr = s.ds.data() + r * n;
                float dot = 0.0f;  // Σ_j P·dP
                for (int64_t j = first; j < n_keys; ++j) {
                  if (sees(i, j)) dot += p[j] * dpr[j];
                }
                for (int64_t j = first; j < n_keys; ++j) {
                  float g_ij = 0.0f;
                  if (sees(i, j)) {
                    g_ij = p[j] * (dpr[j] - dot);
                    if (shape.softcap > 0.0f) {
                      const float t = std::tanh(s.scores[static_cast<size_t>(r * n + j)] / shape.softcap);
                      g_ij *= 1.0f - t * t;
                    }
                    g_ij *= shape.scale;
                    s.pt[static_cast<size_t>(j * n + i)] = p[j];
                  }
                  dsr[j] = g_ij;
                  s.dst[static_cast<size_t>(j * n + i)] = g_ij;
                }
              }
              kt.weighted_sum(s.ds.data() + first, n, nq, kg + first * kd, kd, n_keys - first, d, s.sums.data(), d);
              add_sums(dq + (at + i0) * qd + h * d, qd, s.sums.data(), nq, d);
            }
            // Key j gets the weights of the queries that see it, [j, j + window): a block of keys reads
            // the queries from its first key on.
            for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
              const auto nk = static_cast<int>(std::min<int64_t>(kBlock, n - j0));
              const int64_t count = std::min(n, j0 + nk - 1 + window) - j0;
              kt.weighted_sum(s.dst.data() + j0 * n + j0, n, nk, qh + j0 * qd, qd, count, d, s.sums.data(), d);
              add_sums(dk + (at + j0) * kd + g * d, kd, s.sums.data(), nk, d);
              kt.weighted_sum(s.pt.data() + j0 * n + j0, n, nk, doh + j0 * qd, qd, count, d, s.sums.data(), d);
              add_sums(dv + (at + j0) * kd + g * d, kd, s.sums.data(), nk, d);
            }
          }
        }
      },
      min_items(item_cost));
}

}  // namespace owl::ops
