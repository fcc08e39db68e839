// Scalar references of the attention and row-wise kernels (query-key scores, weighted sums of value
// rows, SwiGLU, GeGLU, RMSNorm, softmax); avx512/attention_avx512.cpp and rowwise_avx512.cpp are
// tested against these.
#include <cmath>
#include <limits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/ref/vec.h"

namespace owl::kernels::ref {

void dot_rows(const float* q, int64_t q_stride, int nq, const float* k, int64_t stride, int64_t n, int64_t d,
              float scale, float* out, int64_t out_stride) {
  for (int j = 0; j < nq; ++j) {
    for (int64_t p = 0; p < n; ++p) out[j * out_stride + p] = dot_f32(q + j * q_stride, k + p * stride, d) * scale;
  }
}

void weighted_sum(const float* w, int64_t w_stride, int nq, const float* v, int64_t stride, int64_t n, int64_t d,
                  float* out, int64_t out_stride) {
  for (int j = 0; j < nq; ++j) {
    float* o = out + j * out_stride;
    for (int64_t i = 0; i < d; ++i) o[i] = 0.0f;
    for (int64_t p = 0; p < n; ++p) axpy_f32(o, w[j * w_stride + p], v + p * stride, d);
  }
}

void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g * (1.0f / (1.0f + std::exp(-g))) * up[i];
  }
}

void geglu(float* gate, const float* up, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * (g + 0.044715f * g * g * g))) * up[i];
  }
}

void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps) {
  float ss = 0.0f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (scale * x[i]);
}

void softmax(float* x, int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max || std::isnan(x[i]) ? x[i] : max;  // NaN propagates
  if (max == -std::numeric_limits<float>::infinity()) {  // every entry -inf: nothing to attend to
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int64_t i = 0; i < n; ++i) x[i] /= sum;
}

void add_rows_product(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w, int64_t w_stride,
                      int64_t n_tokens, int64_t n_rows, int64_t width) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* out = dx + t * dx_stride;
    for (int64_t r = 0; r < n_rows; ++r) {
      const float g = dy[t * dy_stride + r];
      const float* wr = w + r * w_stride;
      for (int64_t c = 0; c < width; ++c) out[c] += g * wr[c];
    }
  }
}

}  // namespace owl::kernels::ref
