// The SIMD layer's AVX2 backend (8 float lanes, FMA, F16C): the operations the shared kernels of
// kernels/cpu/simd/ are written in, instantiated here with this ISA's types. Included only by
// files compiled with the AVX2 flags (CMakeLists.txt), so its inline code never reaches another ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/avx2/avx2_util.h"

namespace owl::kernels::avx2 {

struct Simd {
  using F = __m256;
  using Mask = __m256i;  // the lanes a partial load or store touches
  static constexpr int kLanes = 8;
  // Register tile of the float GEMM (simd/gemm_float.h): rows x tokens accumulators, plus one
  // register per token and one for the weights: 4 x 3 fills the 16 ymm registers.
  static constexpr int kGemmRows = 4;
  static constexpr int kGemmTokens = 3;

  // Register tile of the transposed product (simd/add_rows_product.h): tokens x vectors of columns,
  // 6 x 2 accumulators, 2 weight vectors and a broadcast: 15 of the 16 registers.
  static constexpr int kOuterTokens = 6;
  static constexpr int kOuterVectors = 2;

  // Output vectors per query of the attention-weighted sum (simd/attention.h): 4 queries x 2, plus
  // the value row's 2.
  static constexpr int kWeightedVectors = 2;

  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static Mask tail(int64_t left) { return tail_mask(left); }
  static Mask all() { return _mm256_set1_epi32(-1); }

  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }  // zeros outside m
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, Mask m, F v) { _mm256_maskstore_ps(p, m, v); }
  static F broadcast(const float* p) { return _mm256_broadcast_ss(p); }

  // 16-bit floats: the whole vector, or the lanes of m (no 16-bit masked load in AVX2: a zeroed copy).
  static F load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load_f16(const uint16_t* p, Mask m) { return _mm256_cvtph_ps(load_halves(p, m)); }
  static F load_bf16(const uint16_t* p) { return bf16_bits(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load_bf16(const uint16_t* p, Mask m) { return bf16_bits(load_halves(p, m)); }
  // 8 int8 values times a scale.
  static F load_i8_scaled(const int8_t* q, float scale) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)), _mm256_set1_ps(scale));
  }

  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }    // a·b + c
  static F fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a·b
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F select(Mask m, F a, F b) { return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m)); }  // m ? a : b
  static F keep(Mask m, F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(m)); }               // m ? a : 0
  static bool any_nan(F v) { return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0; }

  static float reduce_add(F v) { return hsum(v); }
  static float reduce_max(F v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }

  // For simd/math.h's exp: rounding to the nearest integer, and e·2^n built in the exponent bits,
  // so the exp's input is clamped where 2^n stays a normal float (exp(-87) ~ 1.6e-38 stands for 0).
  static constexpr float kExpLo = -87.0f, kExpHi = 88.3f;
  static F round(F v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F scale_pow2(F e, F n) {
    const __m256i pow2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(e, _mm256_castsi256_ps(pow2));
  }

 private:
  static __m128i load_halves(const uint16_t* p, Mask m) {
    const int valid = __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(m))));
    alignas(16) uint16_t tmp[8] = {};
    for (int l = 0; l < valid; ++l) tmp[l] = p[l];
    return _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
  }
  static F bf16_bits(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
};

}  // namespace owl::kernels::avx2
