// AVX2 float GEMM for f32, f16 and bf16 weights, for CPUs without AVX-512: the AVX-512 kernel's
// structure at 8 lanes (register tiles of 4 rows x 1 token for decode, 2 x 4 otherwise, k panels
// for prompts). Every (row, token) sum runs lane-wise over k and is reduced once by hsum, whatever
// the tile, so decode and prefill give identical numbers.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"
#include "tensor/dtype.h"

namespace owl::kernels::avx2 {

namespace {

template <DType T>
inline __m256 load_weights(const uint8_t* row, int64_t i, __m256i m, bool full) {
  if constexpr (T == DType::f32) {
    const float* p = reinterpret_cast<const float*>(row) + i;
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
  } else {
    const auto* p = reinterpret_cast<const uint16_t*>(row) + i;
    __m128i h;
    if (full) {
      h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    } else {  // no 16-bit masked load in AVX2: the last step goes through a zeroed copy
      const int valid = __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(m))));
      alignas(16) uint16_t tmp[8] = {};
      for (int l = 0; l < valid; ++l) tmp[l] = p[l];
      h = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
    }
    if constexpr (T == DType::f16) {
      return _mm256_cvtph_ps(h);
    } else {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
  }
}

// Adds the products over [i0, i1) of R rows and N tokens to the register tile a, 8 values a step.
template <DType T, int R, int N>
[[gnu::always_inline]] inline void sweep(const uint8_t* w, size_t row_stride, int64_t i0, int64_t i1, int64_t k,
                                         const float* x, __m256 (&a)[R][N]) {
  const auto step = [&](int64_t i, __m256i m, bool full) [[gnu::always_inline]] {
    __m256 xv[N];
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) xv[t] = full ? _mm256_loadu_ps(x + t * k + i) : _mm256_maskload_ps(x + t * k + i, m);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 wv = load_weights<T>(w + r * row_stride, i, m, full);
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) a[r][t] = _mm256_fmadd_ps(wv, xv[t], a[r][t]);
    }
  };
  int64_t i = i0;
  for (; i + 8 <= i1; i += 8) step(i, _mm256_set1_epi32(-1), true);
  if (i < i1) step(i, tail_mask(k - i), false);
}

template <DType T, int R, int N>
void tile(const uint8_t* w, size_t row_stride, int64_t k, const float* x, float* y, int64_t y_stride) {
  __m256 acc[R][N];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  sweep<T, R, N>(w, row_stride, 0, k, k, x, acc);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) y[t * y_stride + r] = hsum(acc[r][t]);
  }
}

template <DType T, int R>
void rows_tile(const uint8_t* w, size_t row_stride, int64_t k, const float* x, int64_t n_tokens, float* y,
               int64_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) tile<T, R, 4>(w, row_stride, k, x + t * k, y + t * y_stride, y_stride);
  for (; t < n_tokens; ++t) tile<T, R, 1>(w, row_stride, k, x + t * k, y + t * y_stride, y_stride);
}

// Prompts: k panels as in the AVX-512 kernel (a panel of every token stays in cache, the lane-wise
// sums wait in a buffer between panels; each lane still sums over k in order).
constexpr int64_t kPanel = 2048;

template <DType T, int R, int N>
void panel_tile(const uint8_t* w, size_t row_stride, int64_t i0, int64_t i1, int64_t k, const float* x, float* acc,
                int64_t n_tokens) {
  __m256 a[R][N];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) a[r][t] = _mm256_loadu_ps(acc + (r * n_tokens + t) * 8);
  }
  sweep<T, R, N>(w, row_stride, i0, i1, k, x, a);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) _mm256_storeu_ps(acc + (r * n_tokens + t) * 8, a[r][t]);
  }
}

template <DType T, int R>
void panel_rows(const uint8_t* w, size_t row_stride, int64_t i0, int64_t i1, int64_t k, const float* x,
                int64_t n_tokens, float* acc) {
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) panel_tile<T, R, 4>(w, row_stride, i0, i1, k, x + t * k, acc + t * 8, n_tokens);
  for (; t < n_tokens; ++t) panel_tile<T, R, 1>(w, row_stride, i0, i1, k, x + t * k, acc + t * 8, n_tokens);
}

template <DType T>
void gemm_panels(const uint8_t* w, size_t row_stride, int64_t n_rows, int64_t k, const float* x, int64_t n_tokens,
                 float* y, int64_t y_stride) {
  thread_local std::vector<float> acc_buf;
  const auto n_acc = static_cast<size_t>(n_rows * n_tokens * 8);
  if (acc_buf.size() < n_acc) acc_buf.resize(n_acc);
  float* acc = acc_buf.data();  // (n_rows, n_tokens, 8): the lane-wise sums
  std::fill_n(acc, n_acc, 0.0f);
  for (int64_t i0 = 0; i0 < k; i0 += kPanel) {
    const int64_t i1 = std::min(k, i0 + kPanel);
    int64_t r = 0;
    for (; r + 2 <= n_rows; r += 2)
      panel_rows<T, 2>(w + r * row_stride, row_stride, i0, i1, k, x, n_tokens, acc + r * n_tokens * 8);
    for (; r < n_rows; ++r)
      panel_rows<T, 1>(w + r * row_stride, row_stride, i0, i1, k, x, n_tokens, acc + r * n_tokens * 8);
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = hsum(_mm256_loadu_ps(acc + (r * n_tokens + t) * 8));
  }
}

template <DType T>
void gemm_typed(const uint8_t* w, size_t row_stride, int64_t n_rows, int64_t k, const float* x, int64_t n_tokens,
                float* y, int64_t y_stride) {
  constexpr int64_t kPanelTokens = 8;
  if (n_tokens >= kPanelTokens && k > kPanel) return gemm_panels<T>(w, row_stride, n_rows, k, x, n_tokens, y, y_stride);
  int64_t r = 0;
  if (n_tokens == 1) {
    for (; r + 4 <= n_rows; r += 4) tile<T, 4, 1>(w + r * row_stride, row_stride, k, x, y + r, y_stride);
  }
  for (; r + 2 <= n_rows; r += 2) rows_tile<T, 2>(w + r * row_stride, row_stride, k, x, n_tokens, y + r, y_stride);
  for (; r < n_rows; ++r) rows_tile<T, 1>(w + r * row_stride, row_stride, k, x, n_tokens, y + r, y_stride);
}

void gemm_float(const void* w, size_t row_stride, uint32_t type, int64_t n_rows, int64_t k, const float* x,
                int64_t n_tokens, float* y, int64_t y_stride) {
  const auto* rows = static_cast<const uint8_t*>(w);
  switch (static_cast<DType>(type)) {
    case DType::f32:
      return gemm_typed<DType::f32>(rows, row_stride, n_rows, k, x, n_tokens, y, y_stride);
    case DType::f16:
      return gemm_typed<DType::f16>(rows, row_stride, n_rows, k, x, n_tokens, y, y_stride);
    case DType::bf16:
      return gemm_typed<DType::bf16>(rows, row_stride, n_rows, k, x, n_tokens, y, y_stride);
    default:
      return;
  }
}

}  // namespace

void fill_gemm_float(KernelTable& t);
void fill_gemm_float(KernelTable& t) { t.gemm_float = gemm_float; }

}  // namespace owl::kernels::avx2
