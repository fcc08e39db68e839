// Small helpers shared by the AVX2 kernels (compiled with -mavx2 -mfma -mf16c only).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace owl::kernels::avx2 {

// Lanes [0, min(left, 8)) set: the mask of _mm256_maskload_ps / maskstore for a row's last step.
inline __m256i tail_mask(int64_t left) {
  const auto n = static_cast<int>(left < 8 ? (left > 0 ? left : 0) : 8);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The sum of the 8 lanes, always in the same order (halves, then pairs, then the last two).
inline float hsum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The largest of the 8 lanes.
inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

}  // namespace owl::kernels::avx2
