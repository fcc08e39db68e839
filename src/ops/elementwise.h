// Normalisation, rotary embedding and activation ops on float32 rows.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace owl::ops {

// y = x / sqrt(mean(x²) + eps) * w   (Llama RMSNorm; y may alias x)
void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps);

struct RopeParams {
  int64_t n_rot = 0;             // the first n_rot dims of a head rotate
  float base = 10000.0f;
  float freq_scale = 1.0f;       // linear scaling: angles times this
  const float* freq_factors = nullptr;  // n_rot/2 divisors of the angles (Llama 3.1, LongRoPE), or null
  float attn_factor = 1.0f;      // cos and sin times this (LongRoPE)
  bool interleaved = true;       // pairs (2i, 2i+1) as Meta's Llama; else (i, i + n_rot/2) as GPT-NeoX
};

// Rotary position embedding at position pos, angle_i = pos * base^(-2i/n_rot) * freq_scale /
// freq_factors[i], in two steps so that every head of a token shares one set of angles: rope_angles
// fills cos_sin (n_rot values: cos and sin of each angle, times attn_factor), rope_rotate applies
// them to one head vector.
void rope_angles(int64_t pos, const RopeParams& p, float* cos_sin);
void rope_rotate(float* x, const float* cos_sin, const RopeParams& p);

// In place: gate[i] = silu(gate[i]) * up[i]   (SwiGLU), with the active kernels, split over the pool.
void swiglu(float* gate, const float* up, int64_t n, ThreadPool& pool);

// In place: gate[i] = gelu_tanh(gate[i]) * up[i]   (GeGLU, the tanh approximation of GELU)
void geglu(float* gate, const float* up, int64_t n, ThreadPool& pool);

// In place: x = cap * tanh(x / cap)   (Gemma 2 soft-capping)
void softcap(float* x, int64_t n, float cap);

// In place softmax over n values; when every entry is -inf the row becomes zeros. NaN propagates.
void softmax(float* x, int64_t n);

// The log-softmax of a row of logits, entry by entry: at(x[i]) = x[i] - max - log(sum of exp(x - max)),
// the sum in double (for scoring: cross-entropy, perplexity, KL divergence).
struct LogSoftmax {
  float max;
  double log_sum;
  double at(float x) const { return static_cast<double>(x - max) - log_sum; }
};
LogSoftmax log_softmax(const float* logits, int64_t n);

// The index of the largest of n values (the first of equal ones).
int64_t argmax(const float* x, int64_t n);

}  // namespace owl::ops
