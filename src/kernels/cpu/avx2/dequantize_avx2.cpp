// AVX2 dequantization of the legacy 32-value blocks to float32, for weights multiplied with float
// activations (ops/matmul.cpp: MLX modules held as Q4_1/Q5_1). The reference's arithmetic exactly:
// the integer q converted, times the scale, plus the offset as a separate rounding (never fused:
// the library builds with -ffp-contract=off), so the numbers equal tensor/quant.h's dequantize_row.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/kernels.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace owl::kernels::avx2 {

namespace {

constexpr int kQk = 32;

// 8 values q (int32) as q * d [+ m] at y.
template <bool kOffset>
inline void store8(float* y, __m256i q, __m256 d, __m256 m) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(q), d);
  if constexpr (kOffset) v = _mm256_add_ps(v, m);
  _mm256_storeu_ps(y, v);
}

// The 32 4-bit values of a block as int32 groups of 8 in value order (low nibbles are values
// 0-15, high nibbles 16-31), each plus bit i of qh shifted to 16 when kHigh (the 5-bit types),
// minus kBias, then scaled.
template <bool kHigh, int kBias, bool kOffset>
inline void nibble_block(const uint8_t* qs, uint32_t qh, float d, float m, float* y) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(bytes, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  const __m256 dv = _mm256_set1_ps(d);
  const __m256 mv = _mm256_set1_ps(m);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i qhv = _mm256_set1_epi32(static_cast<int>(qh));
  for (int p = 0; p < 4; ++p) {
    __m256i q = _mm256_cvtepu8_epi32(parts[p]);
    if constexpr (kHigh) {
      const __m256i shift = _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * p));
      const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(qhv, shift), _mm256_set1_epi32(1));
      q = _mm256_or_si256(q, _mm256_slli_epi32(bit, 4));
    }
    if constexpr (kBias != 0) q = _mm256_sub_epi32(q, _mm256_set1_epi32(kBias));
    store8<kOffset>(y + 8 * p, q, dv, mv);
  }
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void dequantize_q4_0(const void* row, float* y, int64_t k) {
  const auto* x = static_cast<const BlockQ4_0*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, y += kQk) {
    nibble_block<false, 8, false>(x[b].qs, 0, _cvtsh_ss(x[b].d), 0.0f, y);
  }
}

void dequantize_q4_1(const void* row, float* y, int64_t k) {
  const auto* x = static_cast<const BlockQ4_1*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, y += kQk) {
    nibble_block<false, 0, true>(x[b].qs, 0, _cvtsh_ss(x[b].d), _cvtsh_ss(x[b].m), y);
  }
}

void dequantize_q5_0(const void* row, float* y, int64_t k) {
  const auto* x = static_cast<const BlockQ5_0*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, y += kQk) {
    nibble_block<true, 16, false>(x[b].qs, load_u32(x[b].qh), _cvtsh_ss(x[b].d), 0.0f, y);
  }
}

void dequantize_q5_1(const void* row, float* y, int64_t k) {
  const auto* x = static_cast<const BlockQ5_1*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, y += kQk) {
    nibble_block<true, 0, true>(x[b].qs, load_u32(x[b].qh), _cvtsh_ss(x[b].d), _cvtsh_ss(x[b].m), y);
  }
}

void dequantize_q8_0(const void* row, float* y, int64_t k) {
  const auto* x = static_cast<const BlockQ8_0*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, y += kQk) {
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[b].d));
    for (int p = 0; p < 4; ++p) {
      const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[b].qs + 8 * p));
      store8<false>(y + 8 * p, _mm256_cvtepi8_epi32(q8), d, d);
    }
  }
}

}  // namespace

void fill_dequantize(KernelTable& t);
void fill_dequantize(KernelTable& t) {
  t.dequantize[static_cast<int>(DType::q4_0)] = dequantize_q4_0;
  t.dequantize[static_cast<int>(DType::q4_1)] = dequantize_q4_1;
  t.dequantize[static_cast<int>(DType::q5_0)] = dequantize_q5_0;
  t.dequantize[static_cast<int>(DType::q5_1)] = dequantize_q5_1;
  t.dequantize[static_cast<int>(DType::q8_0)] = dequantize_q8_0;
}

}  // namespace owl::kernels::avx2
