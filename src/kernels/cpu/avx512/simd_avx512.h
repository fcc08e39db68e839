// The SIMD layer's AVX-512 backend (16 float lanes, masked loads and stores): the operations the
// shared kernels of kernels/cpu/simd/ are written in, instantiated here with this ISA's types.
// Included only by files compiled with the AVX-512 flags (CMakeLists.txt).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace owl::kernels::avx512 {

struct Simd {
  using F = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  // Register tile of the float GEMM (simd/gemm_float.h): 4 rows x 5 tokens of accumulators, plus
  // the tokens' and the weights' registers, within the 32 zmm registers.
  static constexpr int kGemmRows = 4;
  static constexpr int kGemmTokens = 5;

  // Register tile of the transposed product (simd/add_rows_product.h): tokens x vectors of columns,
  // 8 x 3 accumulators, 3 weight vectors and a broadcast: 28 of the 32 registers.
  static constexpr int kOuterTokens = 8;
  static constexpr int kOuterVectors = 3;

  // Output vectors per query of the attention-weighted sum (simd/attention.h): 64 values.
  static constexpr int kWeightedVectors = 4;

  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static Mask tail(int64_t left) {
    return left >= 16 ? static_cast<Mask>(0xffff) : left > 0 ? static_cast<Mask>((1u << left) - 1) : Mask{0};
  }
  static Mask all() { return static_cast<Mask>(0xffff); }

  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }  // zeros outside m
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Mask m, F v) { _mm512_mask_storeu_ps(p, m, v); }
  static F broadcast(const float* p) { return _mm512_set1_ps(*p); }

  static F load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static F load_f16(const uint16_t* p, Mask m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
  static F load_bf16(const uint16_t* p) { return bf16_bits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static F load_bf16(const uint16_t* p, Mask m) { return bf16_bits(_mm256_maskz_loadu_epi16(m, p)); }
  // 16 int8 values times a scale.
  static F load_i8_scaled(const int8_t* q, float scale) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)), _mm512_set1_ps(scale));
  }

  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }    // a·b + c
  static F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a·b
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F select(Mask m, F a, F b) { return _mm512_mask_mov_ps(b, m, a); }  // m ? a : b
  static F keep(Mask m, F a) { return _mm512_maskz_mov_ps(m, a); }           // m ? a : 0
  static bool any_nan(F v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0; }

  static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }

  // For simd/math.h's exp: rounding to the nearest integer, and e·2^n by scalef (exp(-110) rounds to 0).
  static constexpr float kExpLo = -110.0f, kExpHi = 89.0f;
  static F round(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F scale_pow2(F e, F n) { return _mm512_scalef_ps(e, n); }

 private:
  static F bf16_bits(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
};

}  // namespace owl::kernels::avx512
