// AVX-512 attention kernels: query-key scores four keys at a time, and the weighted sum of value
// rows with the output held in registers.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx512 {

namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

void dot_rows(const float* q, const float* k, int64_t stride, int64_t n, int64_t d, float scale, float* out) {
  int64_t p = 0;
  for (; p + 4 <= n; p += 4) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t i = 0; i < d; i += 16) {
      const __mmask16 m = tail_mask(d - i);
      const __m512 qv = _mm512_maskz_loadu_ps(m, q + i);
      for (int j = 0; j < 4; ++j) acc[j] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k + (p + j) * stride + i), acc[j]);
    }
    for (int j = 0; j < 4; ++j) out[p + j] = _mm512_reduce_add_ps(acc[j]) * scale;
  }
  for (; p < n; ++p) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += 16) {
      const __mmask16 m = tail_mask(d - i);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, k + p * stride + i), acc);
    }
    out[p] = _mm512_reduce_add_ps(acc) * scale;
  }
}

void weighted_sum(const float* w, const float* v, int64_t stride, int64_t n, int64_t d, float* out) {
  for (int64_t i0 = 0; i0 < d; i0 += 128) {  // 8 registers of output at a time
    const int nvec = static_cast<int>(std::min<int64_t>(8, (d - i0 + 15) / 16));
    __mmask16 mask[8];
    __m512 acc[8];
    for (int j = 0; j < 8; ++j) {
      mask[j] = j < nvec ? tail_mask(d - i0 - 16 * j) : 0;
      acc[j] = _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < n; ++p) {
      const __m512 wp = _mm512_set1_ps(w[p]);
      const float* row = v + p * stride + i0;
      for (int j = 0; j < nvec; ++j) acc[j] = _mm512_fmadd_ps(wp, _mm512_maskz_loadu_ps(mask[j], row + 16 * j), acc[j]);
    }
    for (int j = 0; j < nvec; ++j) _mm512_mask_storeu_ps(out + i0 + 16 * j, mask[j], acc[j]);
  }
}

}  // namespace

void fill_attention(KernelTable& t);
void fill_attention(KernelTable& t) {
  t.dot_rows = dot_rows;
  t.weighted_sum = weighted_sum;
}

}  // namespace owl::kernels::avx512
