// Normalisation, rotary embedding and activation ops on float32 rows (scalar reference).
#pragma once

#include <cstdint>

namespace owl::ops {

// y = x / sqrt(mean(x²) + eps) * w   (Llama RMSNorm; y may alias x)
void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps);

// Rotary position embedding on one head vector of head_dim values; the first n_rot dims rotate.
// interleaved: pairs (2i, 2i+1) as Meta's Llama and llama.cpp's "normal" mode; otherwise pairs
// (i, i + n_rot/2) as GPT-NeoX. freq_i = base^(-2i/n_rot) * freq_scale / freq_factors[i], where
// freq_factors (n_rot/2 values, Llama 3.1's rope_freqs) may be null.
void rope(float* x, int64_t n_rot, int64_t pos, float base, float freq_scale, const float* freq_factors,
          bool interleaved);

// In place: gate[i] = silu(gate[i]) * up[i]   (SwiGLU)
void swiglu(float* gate, const float* up, int64_t n);

// In place softmax over n values; -inf entries get probability 0.
void softmax(float* x, int64_t n);

}  // namespace owl::ops
