// AVX2 attention kernels over up to kMaxQueries queries at once (each key and value row is read
// once for all of them), for CPUs without AVX-512. Scores: every (query, key) pair sums lane-wise
// over d and is reduced by hsum, whatever the tile, so a query's numbers do not depend on how many
// share the call. Weighted sums: 16 output values per query at a time (the 16 ymm registers hold
// four queries' accumulators plus the value row). The key and value rows are f32, f16 or Q8_0 (a KV
// cache's type): each is converted to float as it is loaded, so the arithmetic is the same for all.
#include <immintrin.h>

#include "base/fp16.h"
#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"
#include "tensor/blocks.h"

namespace owl::kernels::avx2 {

namespace {

// Rows of float32, `stride` floats apart: 8 values from i on (the lanes of `mask` only).
struct F32Rows {
  const float* base;
  int64_t stride;
  __m256 load(int64_t p, int64_t i, __m256i mask, int64_t /*left*/) const {
    return _mm256_maskload_ps(base + p * stride + i, mask);
  }
};

// Rows of f16, `stride` halves apart; the last step of a row whose length is not a multiple of 8
// converts one by one into zero-padded lanes.
struct F16Rows {
  const uint16_t* base;
  int64_t stride;
  __m256 load(int64_t p, int64_t i, __m256i /*mask*/, int64_t left) const {
    const uint16_t* h = base + p * stride + i;
    if (left >= 8) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)));
    alignas(32) float x[8] = {};
    for (int64_t l = 0; l < left; ++l) x[l] = fp16_to_fp32(h[l]);
    return _mm256_load_ps(x);
  }
};

// Rows of Q8_0 blocks, `stride` blocks apart (lengths are multiples of 32): d·q, as dequantize does.
struct Q8Rows {
  const BlockQ8_0* base;
  int64_t stride;
  __m256 load(int64_t p, int64_t i, __m256i /*mask*/, int64_t /*left*/) const {
    const BlockQ8_0& b = base[p * stride + i / 32];
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + i % 32));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(b.d)));
  }
};

// NQ queries x NK keys (NQ * NK <= 8 accumulators).
template <int NQ, int NK, typename Rows>
inline void scores_tile(const float* q, int64_t q_stride, const Rows& k, int64_t p0, int64_t d, float scale,
                        float* out, int64_t out_stride) {
  __m256 acc[NQ][NK];
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) acc[j][p] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < d; i += 8) {
    const __m256i m = tail_mask(d - i);
    __m256 kv[NK];
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) kv[p] = k.load(p0 + p, i, m, d - i);
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      const __m256 qv = _mm256_maskload_ps(q + j * q_stride + i, m);
#pragma GCC unroll 8
      for (int p = 0; p < NK; ++p) acc[j][p] = _mm256_fmadd_ps(qv, kv[p], acc[j][p]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) out[j * out_stride + p] = hsum(acc[j][p]) * scale;
  }
}

template <int NQ, typename Rows>
void scores_q(const float* q, int64_t q_stride, const Rows& k, int64_t n, int64_t d, float scale, float* out,
              int64_t out_stride) {
  constexpr int kKeys = NQ == 1 ? 4 : 2;
  int64_t p = 0;
  for (; p + kKeys <= n; p += kKeys) scores_tile<NQ, kKeys>(q, q_stride, k, p, d, scale, out + p, out_stride);
  for (; p < n; ++p) scores_tile<NQ, 1>(q, q_stride, k, p, d, scale, out + p, out_stride);
}

template <typename Rows>
void scores(const float* q, int64_t q_stride, int nq, const Rows& k, int64_t n, int64_t d, float scale, float* out,
            int64_t out_stride) {
  switch (nq) {
    case 4:
      return scores_q<4>(q, q_stride, k, n, d, scale, out, out_stride);
    case 3:
      return scores_q<3>(q, q_stride, k, n, d, scale, out, out_stride);
    case 2:
      return scores_q<2>(q, q_stride, k, n, d, scale, out, out_stride);
    default:
      return scores_q<1>(q, q_stride, k, n, d, scale, out, out_stride);
  }
}

template <int NQ, typename Rows>
void weighted_q(const float* w, int64_t w_stride, const Rows& v, int64_t n, int64_t d, float* out, int64_t out_stride) {
  for (int64_t i0 = 0; i0 < d; i0 += 16) {  // 2 registers of output per query at a time
    const __m256i mask[2] = {tail_mask(d - i0), tail_mask(d - i0 - 8)};
    __m256 acc[NQ][2];
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < n; ++p) {
      const __m256 v0 = v.load(p, i0, mask[0], d - i0);
      const __m256 v1 = d - i0 > 8 ? v.load(p, i0 + 8, mask[1], d - i0 - 8) : _mm256_setzero_ps();
#pragma GCC unroll 4
      for (int j = 0; j < NQ; ++j) {
        const __m256 wp = _mm256_broadcast_ss(w + j * w_stride + p);
        acc[j][0] = _mm256_fmadd_ps(wp, v0, acc[j][0]);
        acc[j][1] = _mm256_fmadd_ps(wp, v1, acc[j][1]);
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      _mm256_maskstore_ps(out + j * out_stride + i0, mask[0], acc[j][0]);
      _mm256_maskstore_ps(out + j * out_stride + i0 + 8, mask[1], acc[j][1]);
    }
  }
}

template <typename Rows>
void weighted(const float* w, int64_t w_stride, int nq, const Rows& v, int64_t n, int64_t d, float* out,
              int64_t out_stride) {
  switch (nq) {
    case 4:
      return weighted_q<4>(w, w_stride, v, n, d, out, out_stride);
    case 3:
      return weighted_q<3>(w, w_stride, v, n, d, out, out_stride);
    case 2:
      return weighted_q<2>(w, w_stride, v, n, d, out, out_stride);
    default:
      return weighted_q<1>(w, w_stride, v, n, d, out, out_stride);
  }
}

void dot_rows(const float* q, int64_t q_stride, int nq, const float* k, int64_t stride, int64_t n, int64_t d,
              float scale, float* out, int64_t out_stride) {
  scores(q, q_stride, nq, F32Rows{k, stride}, n, d, scale, out, out_stride);
}

void weighted_sum(const float* w, int64_t w_stride, int nq, const float* v, int64_t stride, int64_t n, int64_t d,
                  float* out, int64_t out_stride) {
  weighted(w, w_stride, nq, F32Rows{v, stride}, n, d, out, out_stride);
}

void dot_rows_f16(const float* q, int64_t q_stride, int nq, const uint16_t* k, int64_t stride, int64_t n, int64_t d,
                  float scale, float* out, int64_t out_stride) {
  scores(q, q_stride, nq, F16Rows{k, stride}, n, d, scale, out, out_stride);
}

void weighted_sum_f16(const float* w, int64_t w_stride, int nq, const uint16_t* v, int64_t stride, int64_t n, int64_t d,
                      float* out, int64_t out_stride) {
  weighted(w, w_stride, nq, F16Rows{v, stride}, n, d, out, out_stride);
}

void dot_rows_q8_0(const float* q, int64_t q_stride, int nq, const BlockQ8_0* k, int64_t stride, int64_t n, int64_t d,
                   float scale, float* out, int64_t out_stride) {
  scores(q, q_stride, nq, Q8Rows{k, stride}, n, d, scale, out, out_stride);
}

void weighted_sum_q8_0(const float* w, int64_t w_stride, int nq, const BlockQ8_0* v, int64_t stride, int64_t n,
                       int64_t d, float* out, int64_t out_stride) {
  weighted(w, w_stride, nq, Q8Rows{v, stride}, n, d, out, out_stride);
}

}  // namespace

void fill_attention(KernelTable& t);
void fill_attention(KernelTable& t) {
  t.dot_rows = dot_rows;
  t.weighted_sum = weighted_sum;
  t.dot_rows_f16 = dot_rows_f16;
  t.weighted_sum_f16 = weighted_sum_f16;
  t.dot_rows_q8_0 = dot_rows_q8_0;
  t.weighted_sum_q8_0 = weighted_sum_q8_0;
}

}  // namespace owl::kernels::avx2
