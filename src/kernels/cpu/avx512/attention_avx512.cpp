// AVX-512 attention and activation kernels: query-key scores four keys at a time, the weighted sum
// of value rows with the output held in registers, and SwiGLU with a vectorised exp (Cody-Waite
// reduction, Cephes polynomial, scalef for the power of two: within 2 ulp of expf).
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

inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(89.0f)), _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(e, n);
}

void swiglu(float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g))));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(_mm512_mul_ps(g, sig), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace

void fill_attention(KernelTable& t);
void fill_attention(KernelTable& t) {
  t.dot_rows = dot_rows;
  t.weighted_sum = weighted_sum;
  t.swiglu = swiglu;
}

}  // namespace owl::kernels::avx512
