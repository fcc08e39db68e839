// AVX-512 attention kernels over up to kMaxQueries queries at once (each key and value row is read
// once for all of them): query-key scores two keys at a time, and the weighted sum of value rows
// with 64 output values per query held in registers. Per (query, key) and per (query, value) the
// arithmetic does not depend on how many queries share the call.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx512 {

namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : left > 0 ? static_cast<__mmask16>((1u << left) - 1) : 0;
}

template <int NQ, int NK>
inline void scores_tile(const float* q, int64_t q_stride, const float* k, int64_t stride, int64_t d, float scale,
                        float* out, int64_t out_stride) {
  // (The unroll pragmas keep acc in registers; g++ 12 otherwise stores it to the stack every step.)
  __m512 acc[NQ][NK];
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 4
    for (int p = 0; p < NK; ++p) acc[j][p] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = tail_mask(d - i);
    __m512 kv[NK];
#pragma GCC unroll 4
    for (int p = 0; p < NK; ++p) kv[p] = _mm512_maskz_loadu_ps(m, k + p * stride + i);
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      const __m512 qv = _mm512_maskz_loadu_ps(m, q + j * q_stride + i);
#pragma GCC unroll 4
      for (int p = 0; p < NK; ++p) acc[j][p] = _mm512_fmadd_ps(qv, kv[p], acc[j][p]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 4
    for (int p = 0; p < NK; ++p) out[j * out_stride + p] = _mm512_reduce_add_ps(acc[j][p]) * scale;
  }
}

template <int NQ>
void scores_q(const float* q, int64_t q_stride, const float* k, int64_t stride, int64_t n, int64_t d, float scale,
              float* out, int64_t out_stride) {
  constexpr int kKeys = NQ <= 2 ? 4 : 2;
  int64_t p = 0;
  for (; p + kKeys <= n; p += kKeys)
    scores_tile<NQ, kKeys>(q, q_stride, k + p * stride, stride, d, scale, out + p, out_stride);
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
  for (int64_t i0 = 0; i0 < d; i0 += 64) {  // 4 registers of output per query at a time
    __mmask16 mask[4];
    for (int c = 0; c < 4; ++c) mask[c] = tail_mask(d - i0 - 16 * c);
    __m512 acc[NQ][4];
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) acc[j][c] = _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < n; ++p) {
      const float* row = v + p * stride + i0;
      __m512 vv[4];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) vv[c] = _mm512_maskz_loadu_ps(mask[c], row + 16 * c);
#pragma GCC unroll 4
      for (int j = 0; j < NQ; ++j) {
        const __m512 wp = _mm512_set1_ps(w[j * w_stride + p]);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) acc[j][c] = _mm512_fmadd_ps(wp, vv[c], acc[j][c]);
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) _mm512_mask_storeu_ps(out + j * out_stride + i0 + 16 * c, mask[c], acc[j][c]);
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

}  // namespace owl::kernels::avx512
