// AVX2 row-wise kernels: RMSNorm, softmax, SwiGLU and GeGLU, for CPUs without AVX-512 (most laptops
// and desktops). The exp is the AVX-512 one's (Cody-Waite reduction, Cephes polynomial), with the
// power of two built in the exponent bits, so the input is clamped to the normal range.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx2 {

namespace {

inline __m256 exp_ps(__m256 x) {
  // exp(-87) ~ 1.6e-38 stands for 0, exp(88.3) for overflow: 2^n stays a normal float.
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.3f)), _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 e = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  const __m256i pow2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(e, _mm256_castsi256_ps(pow2));
}

void swiglu(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = tail_mask(n - i);
    const __m256 g = _mm256_maskload_ps(gate + i, m);
    const __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    _mm256_maskstore_ps(gate + i, m, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_maskload_ps(up + i, m)));
  }
}

// gelu_tanh(g) = 0.5 g (1 + tanh(y)), y = sqrt(2/pi) (g + 0.044715 g³), with
// 1 + tanh(y) = 2 - 2 / (exp(2y) + 1), as the AVX-512 kernel.
void geglu(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 two = _mm256_set1_ps(2.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = tail_mask(n - i);
    const __m256 g = _mm256_maskload_ps(gate + i, m);
    const __m256 g3 = _mm256_mul_ps(_mm256_mul_ps(g, g), g);
    const __m256 y =
        _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), g3, g));
    const __m256 e = exp_ps(_mm256_mul_ps(two, y));
    const __m256 one_plus_tanh = _mm256_sub_ps(two, _mm256_div_ps(two, _mm256_add_ps(e, one)));
    const __m256 r = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), g), one_plus_tanh),
                                   _mm256_maskload_ps(up + i, m));
    _mm256_maskstore_ps(gate + i, m, r);
  }
}

void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps) {
  __m256 ss = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = _mm256_maskload_ps(x + i, tail_mask(n - i));
    ss = _mm256_fmadd_ps(v, v, ss);
  }
  const float scale = 1.0f / std::sqrt(hsum(ss) / static_cast<float>(n) + eps);
  const __m256 sv = _mm256_set1_ps(scale);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = tail_mask(n - i);
    const __m256 v = _mm256_mul_ps(sv, _mm256_maskload_ps(x + i, m));
    _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(_mm256_maskload_ps(w + i, m), v));
  }
}

void softmax(float* x, int64_t n) {
  const float ninf = -std::numeric_limits<float>::infinity();
  __m256 mx = _mm256_set1_ps(ninf);
  bool nan = false;
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = tail_mask(n - i);
    const __m256 v = _mm256_blendv_ps(_mm256_set1_ps(ninf), _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m));
    nan = nan || _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0;
    mx = _mm256_max_ps(mx, v);
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  const float max = std::max(_mm_cvtss_f32(m4), _mm_cvtss_f32(_mm_movehdup_ps(m4)));
  if (nan || max == ninf) return ref::softmax(x, n);  // NaN propagation and all -inf: the reference's rules
  const __m256 vmax = _mm256_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = tail_mask(n - i);
    const __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vmax)), _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(x + i, m, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 total = _mm256_set1_ps(hsum(sum));
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(x + i, m, _mm256_div_ps(_mm256_maskload_ps(x + i, m), total));
  }
}

}  // namespace

void fill_rowwise(KernelTable& t);
void fill_rowwise(KernelTable& t) {
  t.swiglu = swiglu;
  t.geglu = geglu;
  t.rms_norm = rms_norm;
  t.softmax = softmax;
}

}  // namespace owl::kernels::avx2
