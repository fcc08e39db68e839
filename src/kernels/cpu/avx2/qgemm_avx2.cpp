// AVX2 integer path: the activation quantisation, the same arithmetic, operation for operation, as
// ref/qgemm_ref.cpp (and as the AVX-512 one: round to nearest even, the same scale and sums).
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx2 {

namespace {

// x[i, i + 8), zeros from k on.
inline __m256 load_below_k(const float* x, int64_t i, int64_t k) {
  return k - i >= 8 ? _mm256_loadu_ps(x + i) : _mm256_maskload_ps(x + i, tail_mask(k - i));
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

void quantize_acts(const float* x, int64_t k, int64_t kp, int block, int8_t* q, float* d16, float* s16, float* d32,
                   float* s32, int32_t* sq16, int32_t* sq32) {
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t b0 = 0; b0 < kp; b0 += block) {
    const int64_t end = std::min<int64_t>(b0 + block, kp);
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = b0; i < end; i += 8) a = _mm256_max_ps(a, _mm256_and_ps(load_below_k(x, i, k), magnitude));
    const float d = hmax(a) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    for (int64_t base = b0; base < end; base += 32) {
      const int64_t b = base / 32;
      __m256i v[4];
      for (int p = 0; p < 4; ++p) v[p] = _mm256_cvtps_epi32(_mm256_mul_ps(load_below_k(x, base + 8 * p, k), vid));
      // |v| <= 127: the saturating packs keep every value; they interleave 128-bit lanes, undone by the permute.
      const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + base),
                          _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
      const int32_t sum0 = hsum_i32(_mm256_add_epi32(v[0], v[1]));
      const int32_t sum1 = hsum_i32(_mm256_add_epi32(v[2], v[3]));
      ref::store_act_sums(b, d, sum0, sum1, d16, s16, d32, s32, sq16, sq32);
    }
  }
}

}  // namespace

void fill_qgemm(KernelTable& t);
void fill_qgemm(KernelTable& t) { t.quantize_acts = quantize_acts; }

}  // namespace owl::kernels::avx2
