// AVX-512 VNNI integer path: activation quantisation, the 16-row interleave (a 16x16 dword
// transpose) and the 16-row x n-token GEMM (vpdpbusd: unsigned weight bytes x signed activation
// bytes). Same arithmetic, operation for operation, as ref/qgemm_ref.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/static_count.h"

namespace owl::kernels::avx512 {

namespace {

// Lanes of x[base, base + 16) that lie below k.
inline __mmask16 below_k(int64_t base, int64_t k) {
  const int64_t left = k - base;
  return left >= 16 ? static_cast<__mmask16>(0xffff) : (left > 0 ? static_cast<__mmask16>((1u << left) - 1) : 0);
}

void quantize_acts(const float* x, int64_t k, int64_t kp, int block, int8_t* q, float* d16, float* s16, float* d32,
                   float* s32, int32_t* sq16, int32_t* sq32) {
  const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b0 = 0; b0 < kp; b0 += block) {
    const int64_t end = std::min<int64_t>(b0 + block, kp);
    __m512 a = _mm512_setzero_ps();
    for (int64_t i = b0; i < end; i += 16)
      a = _mm512_max_ps(a, _mm512_and_ps(_mm512_maskz_loadu_ps(below_k(i, k), x + i), sign));
    const float amax = _mm512_reduce_max_ps(a);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m512 vid = _mm512_set1_ps(id);
    for (int64_t base = b0; base < end; base += 32) {
      const int64_t b = base / 32;
      const __m512 x0 = _mm512_maskz_loadu_ps(below_k(base, k), x + base);
      const __m512 x1 = _mm512_maskz_loadu_ps(below_k(base + 16, k), x + base + 16);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, vid));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, vid));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + base), _mm512_cvtsepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + base + 16), _mm512_cvtsepi32_epi8(q1));
      const int32_t sum0 = _mm512_reduce_add_epi32(q0);
      const int32_t sum1 = _mm512_reduce_add_epi32(q1);
      ref::store_act_sums(b, d, sum0, sum1, d16, s16, d32, s32, sq16, sq32);
    }
  }
}

// 16x16 32-bit transpose: r[i] holds row i; afterwards r[j] holds column j.
void transpose16(__m512i* r) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  __m512i u[16];  // u[4g + c]: column c (of each 128-bit lane) for rows 4g..4g+3
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88);
    const __m512i v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xdd);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xdd);
    r[c] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[c + 8] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
    r[c + 4] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[c + 12] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
  }
}

void interleave(const uint8_t* u, const float* s, const float* m, int64_t kp, int g, uint8_t* u_il, float* s_il,
                float* m_il) {
  for (int64_t c = 0; c < kp / 64; ++c) {
    __m512i r[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(u + i * kp + c * 64);
    transpose16(r);
    for (int i = 0; i < 16; ++i) _mm512_storeu_si512(u_il + (c * 16 + i) * 64, r[i]);
  }
  const int64_t ng = kp / g;
  for (int64_t j = 0; j < ng; ++j) {
    for (int r = 0; r < 16; ++r) {
      s_il[j * 16 + r] = s[r * ng + j];
      m_il[j * 16 + r] = m[r * ng + j];
    }
  }
}

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// One tile of NT <= kTileTokens tokens (q, d, sm, off at the tile's start). For each scale group the
// weight bytes stay in registers and the NT integer sums run as independent vpdpbusd chains. With
// kOff the sums start at off (a whole offset times sum(q)) and the float offset m is not needed.
template <int G, int NT, bool kOff, int kBlockGroups>
void gemm_tile(const uint8_t* u_il, const float* s_il, const float* m_il, int64_t kp, const int8_t* q, const float* d,
               const float* sm, const int32_t* off, float* out) {
  constexpr int kSteps = G / 4;  // 64-byte dword columns per group
  constexpr int kT = kTileTokens;
  const int64_t ng = kp / G;
  __m512 acc[NT];
  __m512 blk[NT];  // with kBlockGroups > 1: the activation block's sums before its scale
  for (int t = 0; t < NT; ++t) acc[t] = blk[t] = _mm512_setzero_ps();
  for (int64_t j = 0; j < ng; ++j) {
    const uint8_t* wj = u_il + j * kSteps * 64;
    const int8_t* qj = q + j * kSteps * kT * 4;
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = kOff ? _mm512_set1_epi32(off[j * kT + t]) : _mm512_setzero_si512();
    for (int i = 0; i < kSteps; ++i) {
      const __m512i w = _mm512_loadu_si512(wj + i * 64);
      for (int t = 0; t < NT; ++t) {
        isum[t] = _mm512_dpbusd_epi32(isum[t], w, _mm512_set1_epi32(load_i32(qj + (i * kT + t) * 4)));
      }
    }
    const __m512 sv = _mm512_loadu_ps(s_il + j * 16);
    if constexpr (kBlockGroups == 1) {
      for (int t = 0; t < NT; ++t) {
        const __m512 scale = _mm512_mul_ps(sv, _mm512_set1_ps(d[j * kT + t]));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), scale, acc[t]);
        if constexpr (!kOff)
          acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(m_il + j * 16), _mm512_set1_ps(sm[j * kT + t]), acc[t]);
      }
    } else {  // one scale per activation block: one multiply per block instead of one per group
      for (int t = 0; t < NT; ++t) {
        blk[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), sv, blk[t]);
        if constexpr (!kOff)
          blk[t] = _mm512_fmadd_ps(_mm512_loadu_ps(m_il + j * 16), _mm512_set1_ps(sm[j * kT + t]), blk[t]);
      }
      if ((j + 1) % kBlockGroups == 0) {
        for (int t = 0; t < NT; ++t) {
          acc[t] = _mm512_fmadd_ps(blk[t], _mm512_set1_ps(d[j * kT + t]), acc[t]);
          blk[t] = _mm512_setzero_ps();
        }
      }
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(out + t * 16, acc[t]);
}

template <int G, bool kOff, int kBlockGroups>
void gemm_g(const uint8_t* u_il, const float* s_il, const float* m_il, int64_t kp, const TiledActs& a, int64_t n_tokens,
            float* out) {
  const int64_t ng = kp / G;
  for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
    const int8_t* q = a.q + t * kp;
    const float* d = a.d + t * ng;
    const float* sm = a.sm + t * ng;
    const int32_t* off = kOff ? a.off + t * ng : nullptr;
    float* o = out + t * 16;
    with_count<kTileTokens>(std::min<int64_t>(kTileTokens, n_tokens - t), [&]<int N>() {
      gemm_tile<G, N, kOff, kBlockGroups>(u_il, s_il, m_il, kp, q, d, sm, off, o);
    });
  }
}

void gemm_q16(const uint8_t* u_il, const float* s_il, const float* m_il, int64_t kp, int g, const TiledActs& a,
              int64_t n_tokens, float* out) {
  const bool off = a.off != nullptr;
  if (g == 16) {
    if (a.block_groups == 16)
      return (off ? gemm_g<16, true, 16> : gemm_g<16, false, 16>)(u_il, s_il, m_il, kp, a, n_tokens, out);
    return (off ? gemm_g<16, true, 1> : gemm_g<16, false, 1>)(u_il, s_il, m_il, kp, a, n_tokens, out);
  }
  if (a.block_groups == 8)
    return (off ? gemm_g<32, true, 8> : gemm_g<32, false, 8>)(u_il, s_il, m_il, kp, a, n_tokens, out);
  return (off ? gemm_g<32, true, 1> : gemm_g<32, false, 1>)(u_il, s_il, m_il, kp, a, n_tokens, out);
}

// q4_0 straight from the blocks of 16 rows: per block, gathers bring the same 4 bytes of qs (and d)
// from every row, so the nibbles land already interleaved. Same arithmetic as unpack_q4_0 + gemm_tile.
template <int NT>
void q4_0_tile(const uint8_t* base, const __m512i& offs, int64_t nb, int64_t kp, const QuantActs& a, int64_t t0,
               float* out) {
  const int64_t ng = kp / 32;
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i low16 = _mm512_set1_epi32(0xffff);
  __m512 acc[NT];
  const int8_t* q[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm512_setzero_ps();
    q[t] = a.q + (t0 + t) * kp;
  }
  for (int64_t j = 0; j < nb; ++j) {
    const uint8_t* blk = base + j * 18;
    const __m512i dbits = _mm512_and_si512(_mm512_i32gather_epi32(offs, blk, 1), low16);
    const __m512 sv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dbits));
    __m512i w[8];
    for (int c = 0; c < 4; ++c) {
      const __m512i v = _mm512_i32gather_epi32(offs, blk + 2 + 4 * c, 1);
      w[c] = _mm512_and_si512(v, low4);
      w[c + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
    for (int t = 0; t < NT; ++t) {
      const int64_t idx = (t0 + t) * ng + j;
      __m512i isum = _mm512_set1_epi32(-8 * a.sq32[idx]);  // the offset of q4_0, as an integer
      for (int i = 0; i < 8; ++i) {
        isum = _mm512_dpbusd_epi32(isum, w[i], _mm512_set1_epi32(load_i32(q[t] + j * 32 + 4 * i)));
      }
      const __m512 scale = _mm512_mul_ps(sv, _mm512_set1_ps(a.d32[idx]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(out + (t0 + t) * 16, acc[t]);
}

void gemm_direct_q4_0(const void* rows, size_t row_stride, int64_t k, int64_t kp, const QuantActs& a,
                      int64_t n_tokens, float* out) {
  const auto* base = static_cast<const uint8_t*>(rows);
  const __m512i offs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(static_cast<int32_t>(row_stride)));
  const int64_t nb = k / 32;
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) q4_0_tile<4>(base, offs, nb, kp, a, t, out);
  with_count<3>(n_tokens - t, [&]<int N>() { q4_0_tile<N>(base, offs, nb, kp, a, t, out); });
}

}  // namespace

void fill_qgemm(KernelTable& t);
void fill_qgemm(KernelTable& t) {
  t.quantize_acts = quantize_acts;
  t.interleave = interleave;
  t.gemm_q16 = gemm_q16;
  t.gemm_direct[2] = gemm_direct_q4_0;  // DType::q4_0
}

}  // namespace owl::kernels::avx512
