// AVX-512 float GEMM for f32, f16 and bf16 weights: tiles of up to 4 rows x 4 tokens, 16 products
// per FMA, weights converted in registers (no staging buffer). Every (row, token) sum runs lane-wise
// over k and is reduced once, whatever the tile, so decode and prefill give identical numbers.
#include <immintrin.h>

#include "kernels/cpu/kernels.h"
#include "tensor/dtype.h"

namespace owl::kernels::avx512 {

namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

template <DType T>
inline __m512 load_weights(const uint8_t* row, int64_t i, __mmask16 m) {
  if constexpr (T == DType::f32) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
  } else if constexpr (T == DType::f16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + i));
  } else {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
}

template <DType T, int R, int N>
void tile(const uint8_t* w, size_t row_stride, int64_t k, const float* x, float* y, int64_t y_stride) {
  __m512 acc[R][N];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < N; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < k; i += 16) {
    const __mmask16 m = tail_mask(k - i);
    __m512 xv[N];
    for (int t = 0; t < N; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x + t * k + i);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = load_weights<T>(w + r * row_stride, i, m);
      for (int t = 0; t < N; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < N; ++t) y[t * y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

template <DType T, int R>
void rows_tile(const uint8_t* w, size_t row_stride, int64_t k, const float* x, int64_t n_tokens, float* y,
               int64_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) tile<T, R, 4>(w, row_stride, k, x + t * k, y + t * y_stride, y_stride);
  switch (n_tokens - t) {
    case 3:
      tile<T, R, 3>(w, row_stride, k, x + t * k, y + t * y_stride, y_stride);
      break;
    case 2:
      tile<T, R, 2>(w, row_stride, k, x + t * k, y + t * y_stride, y_stride);
      break;
    case 1:
      tile<T, R, 1>(w, row_stride, k, x + t * k, y + t * y_stride, y_stride);
      break;
    default:
      break;
  }
}

template <DType T>
void gemm_typed(const uint8_t* w, size_t row_stride, int64_t n_rows, int64_t k, const float* x, int64_t n_tokens,
                float* y, int64_t y_stride) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) rows_tile<T, 4>(w + r * row_stride, row_stride, k, x, n_tokens, y + r, y_stride);
  switch (n_rows - r) {
    case 3:
      rows_tile<T, 3>(w + r * row_stride, row_stride, k, x, n_tokens, y + r, y_stride);
      break;
    case 2:
      rows_tile<T, 2>(w + r * row_stride, row_stride, k, x, n_tokens, y + r, y_stride);
      break;
    case 1:
      rows_tile<T, 1>(w + r * row_stride, row_stride, k, x, n_tokens, y + r, y_stride);
      break;
    default:
      break;
  }
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

}  // namespace owl::kernels::avx512
