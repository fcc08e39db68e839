// Element-wise ops: RMSNorm, softmax, SwiGLU and GeGLU run the active kernels (kernels/cpu); RoPE and
// soft-capping are scalar here. RoPE follows llama2.c's run.c arithmetic (float powf,
// cosf, sinf), the reference the stories260K goldens were produced with.
#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/kernels.h"

namespace owl::ops {

void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps) {
  kernels::active().rms_norm(y, x, w, n, eps);
}

void rope_angles(int64_t pos, const RopeParams& p, float* cos_sin) {
  const int64_t half = p.n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float freq = 1.0f / std::pow(p.base, static_cast<float>(2 * i) / static_cast<float>(p.n_rot));
    float angle = static_cast<float>(pos) * freq * p.freq_scale;
    if (p.freq_factors != nullptr) angle /= p.freq_factors[i];
    cos_sin[2 * i] = std::cos(angle) * p.attn_factor;
    cos_sin[2 * i + 1] = std::sin(angle) * p.attn_factor;
  }
}

void rope_rotate(float* x, const float* cos_sin, const RopeParams& p) {
  const int64_t half = p.n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float c = cos_sin[2 * i];
    const float s = cos_sin[2 * i + 1];
    const int64_t a = p.interleaved ? 2 * i : i;
    const int64_t b = p.interleaved ? 2 * i + 1 : i + half;
    const float x0 = x[a];
    const float x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
}

namespace {
// A gated activation kernel over n values, split over the pool in whole vectors of 16.
void gated_in_parallel(void (*fn)(float*, const float*, int64_t), float* gate, const float* up, int64_t n,
                       ThreadPool& pool) {
  pool.parallel_for((n + 15) / 16, [&](int64_t b, int64_t e, int) {
    fn(gate + b * 16, up + b * 16, std::min(n, e * 16) - b * 16);
  }, 1024);
}
}  // namespace

void swiglu(float* gate, const float* up, int64_t n, ThreadPool& pool) {
  gated_in_parallel(kernels::active().swiglu, gate, up, n, pool);
}

void geglu(float* gate, const float* up, int64_t n, ThreadPool& pool) {
  gated_in_parallel(kernels::active().geglu, gate, up, n, pool);
}

void softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void softmax(float* x, int64_t n) { kernels::active().softmax(x, n); }

LogSoftmax log_softmax(const float* logits, int64_t n) {
  const float max = *std::max_element(logits, logits + n);
  double sum = 0.0;
  for (int64_t v = 0; v < n; ++v) sum += std::exp(static_cast<double>(logits[v] - max));
  return {max, std::log(sum)};
}

int64_t argmax(const float* x, int64_t n) { return std::max_element(x, x + n) - x; }

}  // namespace owl::ops
