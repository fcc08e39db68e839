// AVX-512 attention kernels: simd/attention.h on the AVX-512 backend (weighted sums, and the scores
// over f16 and Q8_0 rows), and its own scores over f32 rows, in blocks of 16 (query, key) pairs
// reduced together by one shuffle tree that adds in the order of _mm512_reduce_add_ps: the same
// numbers as the shared kernel's one reduction per pair, so a typed cache's scores are exactly
// those of its rows converted to f32.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/avx512/simd_avx512.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd/attention.h"

namespace owl::kernels::avx512 {

namespace {

// NQ queries against one key (the keys left over after the blocks of scores_block).
template <int NQ>
inline void scores_one_key(const float* q, int64_t q_stride, const float* k, int64_t d, float scale, float* out,
                           int64_t out_stride) {
  // (The unroll pragmas keep acc in registers; g++ 12 otherwise stores it to the stack every step.)
  __m512 acc[NQ];
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = Simd::tail(d - i);
    const __m512 kv = _mm512_maskz_loadu_ps(m, k + i);
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) acc[j] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + j * q_stride + i), kv, acc[j]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) out[j * out_stride] = _mm512_reduce_add_ps(acc[j]) * scale;
}

// The 16 sums of a[0..15] as one vector, each added in exactly the order of _mm512_reduce_add_ps
// (256-bit halves, then 128-bit halves, then lanes 0+2 / 1+3, then those two), so a score does not
// depend on whether it was reduced alone or in a batch. Element 4L + i of the result is the sum of
// a[4i + L]. Three shuffle-and-add levels for all 16 instead of a reduction each.
[[gnu::always_inline]] inline __m512 reduce16(const __m512 (&a)[16]) {
  __m512 b[8];  // lanes 0-7: halves of a[2m] added, lanes 8-15: of a[2m + 1]
#pragma GCC unroll 8
  for (int m = 0; m < 8; ++m) {
    b[m] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * m], a[2 * m + 1], 0x44),
                         _mm512_shuffle_f32x4(a[2 * m], a[2 * m + 1], 0xee));
  }
  __m512 c[4];  // 128-bit lane j: quarters of a[4m + j] added
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {
    c[m] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * m], b[2 * m + 1], 0x88),
                         _mm512_shuffle_f32x4(b[2 * m], b[2 * m + 1], 0xdd));
  }
  __m512 e[2];  // lane L: (v0, v1) of a[8m + L], then of a[8m + 4 + L]
#pragma GCC unroll 2
  for (int m = 0; m < 2; ++m) {
    e[m] =
        _mm512_add_ps(_mm512_shuffle_ps(c[2 * m], c[2 * m + 1], 0x44), _mm512_shuffle_ps(c[2 * m], c[2 * m + 1], 0xee));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(e[0], e[1], 0x88), _mm512_shuffle_ps(e[0], e[1], 0xdd));
}

// NQ queries x NK keys with NQ * NK = 16, reduced together by reduce16. Accumulator 4i + L holds
// query L / (4 / NQ) and key (L % (4 / NQ)) * 4 + i, so each query's NK scores come out in order.
template <int NQ, int NK>
inline void scores_block(const float* const* qs, const float* k, int64_t stride, int64_t d, float scale, float* out,
                         int64_t out_stride) {
  static_assert(NQ * NK == 16);
  constexpr int kLanesPerQuery = 4 / NQ;
  __m512 acc[16];
#pragma GCC unroll 16
  for (int n = 0; n < 16; ++n) acc[n] = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = Simd::tail(d - i);
    __m512 kv[NK];
#pragma GCC unroll 16
    for (int p = 0; p < NK; ++p) kv[p] = _mm512_maskz_loadu_ps(m, k + p * stride + i);
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      const __m512 qv = _mm512_maskz_loadu_ps(m, qs[j] + i);
#pragma GCC unroll 16
      for (int p = 0; p < NK; ++p) {
        const int lane = j * kLanesPerQuery + p / 4;
        acc[4 * (p % 4) + lane] = _mm512_fmadd_ps(qv, kv[p], acc[4 * (p % 4) + lane]);
      }
    }
  }
  alignas(64) float r[16];
  _mm512_store_ps(r, _mm512_mul_ps(reduce16(acc), _mm512_set1_ps(scale)));
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) std::memcpy(out + j * out_stride, r + j * NK, sizeof(float) * NK);
}

// Query j at q + j*q_stride (j < NQ); blocks of 16 / NQ keys, the rest one key at a time (same
// numbers either way). Three queries run as four, the fourth a repeat of the third whose scores
// land in a scratch row.
template <int NQ>
void scores_q(const float* q, int64_t q_stride, const float* k, int64_t stride, int64_t n, int64_t d, float scale,
              float* out, int64_t out_stride) {
  constexpr int kBlockQ = NQ == 3 ? 4 : NQ;  // NOLINT(bugprone-branch-clone): the same when NQ is 4
  constexpr int kKeys = 16 / kBlockQ;
  const float* qs[kBlockQ];
  for (int j = 0; j < kBlockQ; ++j) qs[j] = q + std::min(j, NQ - 1) * q_stride;
  int64_t p = 0;
  for (; p + kKeys <= n; p += kKeys) {
    if constexpr (NQ == 3) {
      float block[4 * kKeys];
      scores_block<4, kKeys>(qs, k + p * stride, stride, d, scale, block, kKeys);
      for (int j = 0; j < 3; ++j) std::memcpy(out + j * out_stride + p, block + j * kKeys, sizeof(float) * kKeys);
    } else {
      scores_block<NQ, kKeys>(qs, k + p * stride, stride, d, scale, out + p, out_stride);
    }
  }
  for (; p < n; ++p) scores_one_key<NQ>(q, q_stride, k + p * stride, d, scale, out + p, out_stride);
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

}  // namespace

void fill_attention(KernelTable& t);
void fill_attention(KernelTable& t) {
  simd::fill_attention<Simd>(t);
  t.dot_rows = dot_rows;
}

}  // namespace owl::kernels::avx512
