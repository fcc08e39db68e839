// AVX2 attention kernels over up to kMaxQueries queries at once (each key and value row is read
// once for all of them), for CPUs without AVX-512. Scores: every (query, key) pair sums lane-wise
// over d and is reduced by hsum, whatever the tile, so a query's numbers do not depend on how many
// share the call. Weighted sums: 16 output values per query at a time (the 16 ymm registers hold
// four queries' accumulators plus the value row).
#include <immintrin.h>

#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx2 {

namespace {

// NQ queries x NK keys (NQ * NK <= 8 accumulators).
template <int NQ, int NK>
inline void scores_tile(const float* q, int64_t q_stride, const float* k, int64_t stride, int64_t d, float scale,
                        float* out, int64_t out_stride) {
  __m256 acc[NQ][NK];
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) acc[j][p] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < d; i += 8) {
    const __m256i m = tail_mask(d - i);
    __m256 kv[NK];
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) kv[p] = _mm256_maskload_ps(k + p * stride + i, m);
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      const __m256 qv = _mm256_maskload_ps(q + j * q_stride + i, m);
#pragma GCC unroll 8
      for (int p = 0; p < NK; ++p) acc[j][p] = _mm256_fmadd_ps(qv, kv[p], acc[j][p]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) out[j * out_stride + p] = hsum(acc[j][p]) * scale;
  }
}

template <int NQ>
void scores_q(const float* q, int64_t q_stride, const float* k, int64_t stride, int64_t n, int64_t d, float scale,
              float* out, int64_t out_stride) {
  constexpr int kKeys = NQ == 1 ? 4 : 2;
  int64_t p = 0;
  for (; p + kKeys <= n; p += kKeys) {
    scores_tile<NQ, kKeys>(q, q_stride, k + p * stride, stride, d, scale, out + p, out_stride);
  }
  for (; p < n; ++p) scores_tile<NQ, 1>(q, q_stride, k + p * stride, stride, d, scale, out + p, out_stride);
}

void dot_rows(const float* q, int64_t q_stride, int nq, const float* k, int64_t stride, int64_t n, int64_t d,
              float scale, float* out, int64_t out_stride) {
  switch (nq) {
    case 4:
      return scores_q<4>(q, q_stride, k, stride, n, d, scale, out, out_stride);
    case 3:
      return scores_q<3>(q, q_stride, k, stride, n, d, scale, out, out_stride);
    case 2:
      return scores_q<2>(q, q_stride, k, stride, n, d, scale, out, out_stride);
    default:
      return scores_q<1>(q, q_stride, k, stride, n, d, scale, out, out_stride);
  }
}

template <int NQ>
void weighted_q(const float* w, int64_t w_stride, const float* v, int64_t stride, int64_t n, int64_t d, float* out,
                int64_t out_stride) {
  for (int64_t i0 = 0; i0 < d; i0 += 16) {  // 2 registers of output per query at a time
    const __m256i mask[2] = {tail_mask(d - i0), tail_mask(d - i0 - 8)};
    __m256 acc[NQ][2];
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < n; ++p) {
      const float* row = v + p * stride + i0;
      const __m256 v0 = _mm256_maskload_ps(row, mask[0]);
      const __m256 v1 = _mm256_maskload_ps(row + 8, mask[1]);
#pragma GCC unroll 4
      for (int j = 0; j < NQ; ++j) {
        const __m256 wp = _mm256_broadcast_ss(w + j * w_stride + p);
        acc[j][0] = _mm256_fmadd_ps(wp, v0, acc[j][0]);
        acc[j][1] = _mm256_fmadd_ps(wp, v1, acc[j][1]);
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      _mm256_maskstore_ps(out + j * out_stride + i0, mask[0], acc[j][0]);
      _mm256_maskstore_ps(out + j * out_stride + i0 + 8, mask[1], acc[j][1]);
    }
  }
}

void weighted_sum(const float* w, int64_t w_stride, int nq, const float* v, int64_t stride, int64_t n, int64_t d,
                  float* out, int64_t out_stride) {
  switch (nq) {
    case 4:
      return weighted_q<4>(w, w_stride, v, stride, n, d, out, out_stride);
    case 3:
      return weighted_q<3>(w, w_stride, v, stride, n, d, out, out_stride);
    case 2:
      return weighted_q<2>(w, w_stride, v, stride, n, d, out, out_stride);
    default:
      return weighted_q<1>(w, w_stride, v, stride, n, d, out, out_stride);
  }
}

}  // namespace

void fill_attention(KernelTable& t);
void fill_attention(KernelTable& t) {
  t.dot_rows = dot_rows;
  t.weighted_sum = weighted_sum;
}

}  // namespace owl::kernels::avx2
