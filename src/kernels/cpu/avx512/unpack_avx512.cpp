// AVX-512 unpackers for the most used weight types (q4_0, q8_0, q4_K, q6_K) into the integer
// path's form (u, per-group s and m); the other types keep ref/unpack_ref.cpp's scalar versions.
// Mirrors ref/unpack_ref.cpp value for value (tests/kernels compares them byte for byte).
#include <immintrin.h>

#include "kernels/cpu/kernels.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/kquant_scales.h"

namespace owl::kernels::avx512 {

namespace {

float half(uint16_t h) { return _cvtsh_ss(h); }

void unpack_q4_0(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ4_0*>(row);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(u), _mm_and_si128(q, low4));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(u + 16), _mm_and_si128(_mm_srli_epi16(q, 4), low4));
    const float d = half(x[b].d);
    s[b] = d;
    m[b] = -8.0f * d;
  }
}

void unpack_q8_0(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ8_0*>(row);
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u), _mm256_xor_si256(q, bias));
    const float d = half(x[b].d);
    s[b] = d;
    m[b] = -128.0f * d;
  }
}

void unpack_q4_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ4_K*>(row);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int64_t b = 0; b < k / kQkK; ++b, u += kQkK, s += 8, m += 8) {
    const float d = half(x[b].d);
    const float dmin = half(x[b].dmin);
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * c));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * c), _mm256_and_si256(q, low4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
    }
    for (int j = 0; j < 8; ++j) {
      uint8_t sc;
      uint8_t mn;
      kquant::k4_scale_min(j, x[b].scales, &sc, &mn);
      s[j] = d * static_cast<float>(sc);
      m[j] = -(dmin * static_cast<float>(mn));
    }
  }
}

void unpack_q6_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ6_K*>(row);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i low2 = _mm256_set1_epi8(0x03);
  for (int64_t b = 0; b < k / kQkK; ++b) {
    const float d = half(x[b].d);
    for (int h = 0; h < 2; ++h, u += 128, s += 8, m += 8) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * h));
      auto high = [&](int shift) {
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, shift), low2), 4);
      };
      const __m256i u0 = _mm256_or_si256(_mm256_and_si256(a, low4), high(0));
      const __m256i u1 = _mm256_or_si256(_mm256_and_si256(c, low4), high(2));
      const __m256i u2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), high(4));
      const __m256i u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4), high(6));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u), u0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32), u1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64), u2);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 96), u3);
      const int8_t* sc = x[b].scales + 8 * h;
      for (int j = 0; j < 8; ++j) {
        const float dl = d * static_cast<float>(sc[j]);
        s[j] = dl;
        m[j] = -32.0f * dl;
      }
    }
  }
}

}  // namespace

void fill_unpack(KernelTable& t);
void fill_unpack(KernelTable& t) {
  t.unpack[static_cast<int>(DType::q4_0)] = unpack_q4_0;
  t.unpack[static_cast<int>(DType::q8_0)] = unpack_q8_0;
  t.unpack[static_cast<int>(DType::q4_k)] = unpack_q4_k;
  t.unpack[static_cast<int>(DType::q6_k)] = unpack_q6_k;
}

}  // namespace owl::kernels::avx512
