// AVX2 conversions between float32 and the legacy 32-value blocks, bit-identical to tensor/quant.h.
// Dequantizing (weights multiplied with float activations: MLX modules held as Q4_1/Q5_1): the
// integer q converted, times the scale, plus the offset as a separate rounding (never fused: the
// library builds with -ffp-contract=off). Quantizing (owl convert / quantize): the reference's
// scale, its products and its truncations, vector-wide; a block holding a NaN takes the reference.
#include <immintrin.h>

#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"

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

// ---- quantizing ----

// The low byte of each of 8 int32 lanes, in lane order, as the low 8 bytes.
inline __m128i low_bytes(__m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
  return _mm256_castsi256_si128(v);
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

struct Block32 {
  __m256 v[4];
  __m256 a[4];  // |v|
  float amax;   // largest |v|
};

// Loads 32 values; false when one is a NaN (the reference's scans then decide what a NaN means).
inline bool load_block(const float* x, Block32& b) {
  __m256 nan = _mm256_setzero_ps();
  __m256 m = _mm256_setzero_ps();
  for (int p = 0; p < 4; ++p) {
    b.v[p] = _mm256_loadu_ps(x + 8 * p);
    b.a[p] = abs_ps(b.v[p]);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(b.v[p], b.v[p], _CMP_UNORD_Q));
    m = _mm256_max_ps(m, b.a[p]);
  }
  b.amax = hmax(m);
  return _mm256_movemask_ps(nan) == 0;
}

// The value of largest magnitude with its sign, the first one on a tie (signed_absmax); 0 for zeros.
inline float signed_absmax(const float* x, const Block32& b) {
  if (b.amax == 0.0f) return 0.0f;
  const __m256 target = _mm256_set1_ps(b.amax);
  for (int p = 0; p < 4; ++p) {
    const int hits = _mm256_movemask_ps(_mm256_cmp_ps(b.a[p], target, _CMP_EQ_OQ));
    if (hits != 0) return x[8 * p + __builtin_ctz(static_cast<unsigned>(hits))];
  }
  return 0.0f;  // not reached: amax is one of the |v|
}

// (int8_t) of a float's truncation to int (out of range: INT_MIN, as trunc_to_int), sign-extended.
inline __m256i trunc_int8(__m256 v) {
  const __m256i t = _mm256_cvttps_epi32(v);
  return _mm256_srai_epi32(_mm256_slli_epi32(t, 24), 24);
}

void quantize_q4_0(const float* x, void* out, int64_t k) {
  auto* y = static_cast<BlockQ4_0*>(out);
  for (int64_t i = 0; i < k / kQk; ++i, x += kQk) {
    Block32 b;
    if (!load_block(x, b)) {
      quantize_row(DType::q4_0, x, y + i, kQk);
      continue;
    }
    const float d = signed_absmax(x, b) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    __m256i q[4];
    for (int p = 0; p < 4; ++p) {
      const __m256 s = _mm256_add_ps(_mm256_mul_ps(b.v[p], _mm256_set1_ps(id)), _mm256_set1_ps(8.5f));
      q[p] = _mm256_min_epi32(trunc_int8(s), _mm256_set1_epi32(15));
    }
    // byte j: value j in the low nibble, value j + 16 in the high one (only the low byte is kept).
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y[i].qs), low_bytes(_mm256_or_si256(q[0], _mm256_slli_epi32(q[2], 4))));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y[i].qs + 8),
                     low_bytes(_mm256_or_si256(q[1], _mm256_slli_epi32(q[3], 4))));
  }
}

// std::round: half away from zero (the fraction v - trunc(v) is exact in float).
inline __m256 round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 half_or_more = _mm256_cmp_ps(abs_ps(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
  return _mm256_add_ps(t, _mm256_and_ps(half_or_more, one));
}

void quantize_q8_0(const float* x, void* out, int64_t k) {
  auto* y = static_cast<BlockQ8_0*>(out);
  for (int64_t i = 0; i < k / kQk; ++i, x += kQk) {
    Block32 b;
    if (!load_block(x, b)) {
      quantize_row(DType::q8_0, x, y + i, kQk);
      continue;
    }
    const float d = b.amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int p = 0; p < 4; ++p) {
      const __m256 r = round_half_away(_mm256_mul_ps(b.v[p], _mm256_set1_ps(id)));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(y[i].qs + 8 * p), low_bytes(_mm256_cvttps_epi32(r)));
    }
  }
}

}  // namespace

void fill_blocks(KernelTable& t);
void fill_blocks(KernelTable& t) {
  t.quantize[static_cast<int>(DType::q4_0)] = quantize_q4_0;
  t.quantize[static_cast<int>(DType::q8_0)] = quantize_q8_0;
  t.dequantize[static_cast<int>(DType::q4_0)] = dequantize_q4_0;
  t.dequantize[static_cast<int>(DType::q4_1)] = dequantize_q4_1;
  t.dequantize[static_cast<int>(DType::q5_0)] = dequantize_q5_0;
  t.dequantize[static_cast<int>(DType::q5_1)] = dequantize_q5_1;
  t.dequantize[static_cast<int>(DType::q8_0)] = dequantize_q8_0;
}

}  // namespace owl::kernels::avx2
