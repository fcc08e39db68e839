// AVX2 + FMA + F16C float kernels: the fixed-order f32 dot product and f16/bf16 row conversion
// (same API as ref/), and the table of the AVX2 kernels (packed integer matmul, row-wise,
// attention, float GEMM, block conversions).
#include <immintrin.h>

#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx2 {

namespace {

float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3))) + tail;
}

void f16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
  }
  for (; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    dst[i] = f;
  }
}

}  // namespace

void fill_packed(KernelTable& t);
void fill_rowwise(KernelTable& t);
void fill_attention(KernelTable& t);
void fill_gemm_float(KernelTable& t);
void fill_blocks(KernelTable& t);
void fill_add_rows_product(KernelTable& t);

void fill(KernelTable& t) {
  fill_packed(t);
  fill_rowwise(t);
  fill_attention(t);
  fill_gemm_float(t);
  fill_blocks(t);
  fill_add_rows_product(t);
  t.dot_f32 = dot_f32;
  t.f16_to_f32 = f16_to_f32;
  t.bf16_to_f32 = bf16_to_f32;
}

}  // namespace owl::kernels::avx2
