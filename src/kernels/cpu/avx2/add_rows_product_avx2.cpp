// AVX2 + FMA transposed product of training (kernels.h AddRowsProductFn): dx += dy·W on float rows,
// register-tiled as 4 tokens x 16 columns, so each weight vector loaded serves four tokens and dx
// stays in registers across all the rows. Rows are summed in order, as the reference does.
#include <immintrin.h>

#include "kernels/cpu/avx2/avx2_util.h"
#include "kernels/cpu/kernels.h"

namespace owl::kernels::avx2 {

namespace {

// Columns [c, c + 8·V) of tokens [t0, t0 + T).
template <int T, int V>
inline void tile(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w, int64_t w_stride,
                 int64_t n_rows, int64_t c) {
  __m256 acc[T][V];
  for (int t = 0; t < T; ++t) {
    for (int v = 0; v < V; ++v) acc[t][v] = _mm256_loadu_ps(dx + t * dx_stride + c + 8 * v);
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    __m256 wv[V];
    for (int v = 0; v < V; ++v) wv[v] = _mm256_loadu_ps(w + r * w_stride + c + 8 * v);
    for (int t = 0; t < T; ++t) {
      const __m256 g = _mm256_broadcast_ss(dy + t * dy_stride + r);
      for (int v = 0; v < V; ++v) acc[t][v] = _mm256_fmadd_ps(g, wv[v], acc[t][v]);
    }
  }
  for (int t = 0; t < T; ++t) {
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(dx + t * dx_stride + c + 8 * v, acc[t][v]);
  }
}

template <int T>
void tokens(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w, int64_t w_stride,
            int64_t n_rows, int64_t width) {
  int64_t c = 0;
  for (; c + 16 <= width; c += 16) tile<T, 2>(dx, dx_stride, dy, dy_stride, w, w_stride, n_rows, c);
  for (; c + 8 <= width; c += 8) tile<T, 1>(dx, dx_stride, dy, dy_stride, w, w_stride, n_rows, c);
  for (; c < width; ++c) {  // the last columns one by one, rows in the same order
    for (int t = 0; t < T; ++t) {
      float s = dx[t * dx_stride + c];
      for (int64_t r = 0; r < n_rows; ++r) s = __builtin_fmaf(dy[t * dy_stride + r], w[r * w_stride + c], s);
      dx[t * dx_stride + c] = s;
    }
  }
}

void add_rows_product(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w, int64_t w_stride,
                      int64_t n_tokens, int64_t n_rows, int64_t width) {
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) {
    tokens<4>(dx + t * dx_stride, dx_stride, dy + t * dy_stride, dy_stride, w, w_stride, n_rows, width);
  }
  for (; t < n_tokens; ++t) tokens<1>(dx + t * dx_stride, dx_stride, dy + t * dy_stride, dy_stride, w, w_stride, n_rows, width);
}

}  // namespace

void fill_add_rows_product(KernelTable& t);
void fill_add_rows_product(KernelTable& t) { t.add_rows_product = add_rows_product; }

}  // namespace owl::kernels::avx2
