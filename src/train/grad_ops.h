// Forward and backward passes of every op of the decoder, written by hand in pairs (llm.c's
// *_forward / *_backward): scalar references templated on the float type, so the tests check each
// backward against finite differences in double and the training code runs them in float. The
// conventions are the decoder's (models/decoder.cpp, ops/elementwise.h); every backward adds (+=)
// into its input gradients, as parameters and residual streams need.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/dot8.h"

namespace owl::train {

// ---- RMSNorm: y = x / sqrt(mean(x²) + eps) * w (Gemma's 1 + w is stored as such in the weights) ----

template <typename T>
T rms_inverse(const T* x, int64_t n, T eps) {
  T ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  return T(1) / std::sqrt(ss / static_cast<T>(n) + eps);
}

template <typename T>
void rms_norm_forward(T* y, const T* x, const T* w, int64_t n, T eps) {
  const T r = rms_inverse(x, n, eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * r * w[i];
}

// dx += d/dx, dw += d/dw (dw may be null: a frozen weight).
template <typename T>
void rms_norm_backward(T* dx, T* dw, const T* dy, const T* x, const T* w, int64_t n, T eps) {
  const T r = rms_inverse(x, n, eps);
  T dot = 0;  // sum dy·w·x
  for (int64_t i = 0; i < n; ++i) dot += dy[i] * w[i] * x[i];
  const T k = dot * r * r * r / static_cast<T>(n);
  for (int64_t i = 0; i < n; ++i) {
    dx[i] += dy[i] * w[i] * r - k * x[i];
    if (dw != nullptr) dw[i] += dy[i] * x[i] * r;
  }
}

// ---- RoPE: one head vector rotated by the angles of ops::rope_angles (cos, sin pairs, already
// times attn_factor); pairs (2i, 2i+1) when interleaved, else (i, i + n_rot/2). ----

template <typename T>
void rope_forward(T* x, const float* cos_sin, int64_t n_rot, bool interleaved) {
  const int64_t half = n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const T c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    const int64_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
    const T x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
}

// The gradient through the rotation is the transposed rotation, applied in place to dy.
template <typename T>
void rope_backward(T* d, const float* cos_sin, int64_t n_rot, bool interleaved) {
  const int64_t half = n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const T c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    const int64_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
    const T d0 = d[a], d1 = d[b];
    d[a] = d0 * c + d1 * s;
    d[b] = -d0 * s + d1 * c;
  }
}

// ---- Gated feed-forward: h = act(g) * u ----

template <typename T>
T sigmoid(T g) {
  return T(1) / (T(1) + std::exp(-g));
}

template <typename T>
void swiglu_forward(T* h, const T* g, const T* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = g[i] * sigmoid(g[i]) * u[i];
}

template <typename T>
void swiglu_backward(T* dg, T* du, const T* dh, const T* g, const T* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T s = sigmoid(g[i]);
    dg[i] += dh[i] * u[i] * s * (T(1) + g[i] * (T(1) - s));
    du[i] += dh[i] * g[i] * s;
  }
}

// GELU, tanh approximation: 0.5 g (1 + tanh(a (g + 0.044715 g³))), a = sqrt(2/pi).
template <typename T>
void geglu_forward(T* h, const T* g, const T* u, int64_t n) {
  const T a = static_cast<T>(0.7978845608028654);
  for (int64_t i = 0; i < n; ++i) {
    const T t = std::tanh(a * (g[i] + static_cast<T>(0.044715) * g[i] * g[i] * g[i]));
    h[i] = T(0.5) * g[i] * (T(1) + t) * u[i];
  }
}

template <typename T>
void geglu_backward(T* dg, T* du, const T* dh, const T* g, const T* u, int64_t n) {
  const T a = static_cast<T>(0.7978845608028654);
  const T c = static_cast<T>(0.044715);
  for (int64_t i = 0; i < n; ++i) {
    const T x = g[i];
    const T t = std::tanh(a * (x + c * x * x * x));
    const T gelu = T(0.5) * x * (T(1) + t);
    const T dgelu = T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * a * (T(1) + T(3) * c * x * x);
    dg[i] += dh[i] * u[i] * dgelu;
    du[i] += dh[i] * gelu;
  }
}

// ---- Soft-capping: y = cap · tanh(x / cap) (Gemma 2's attention scores and logits) ----

template <typename T>
void softcap_forward(T* x, int64_t n, T cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

// y: the capped values the forward produced; dy is turned into dx in place.
template <typename T>
void softcap_backward(T* d, const T* y, int64_t n, T cap) {
  for (int64_t i = 0; i < n; ++i) {
    const T t = y[i] / cap;
    d[i] *= T(1) - t * t;
  }
}

// ---- Attention of one sequence (no cache): q (n, n_head·hd), k and v (n, n_head_kv·hd), after
// RoPE. Query i sees keys j <= i (and i - j < window when window > 0); scores times scale, then
// soft-capped when softcap > 0, softmax, weighted sum of v. probs (n_head, n, n) keeps the softmax
// for backward (zero where masked). ----

struct AttentionDims {
  int64_t n = 0;  // positions
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;
  float softcap = 0.0f;
  int64_t window = 0;
  bool sees(int64_t i, int64_t j) const { return j <= i && (window <= 0 || i - j < window); }
};

template <typename T>
T attention_score(const T* q, const T* k, const AttentionDims& a) {
  T s = 0;
  for (int64_t e = 0; e < a.head_dim; ++e) s += q[e] * k[e];
  s *= static_cast<T>(a.scale);
  if (a.softcap > 0.0f) s = static_cast<T>(a.softcap) * std::tanh(s / static_cast<T>(a.softcap));
  return s;
}

template <typename T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, const AttentionDims& a) {
  const int64_t qd = a.n_head * a.head_dim, kd = a.n_head_kv * a.head_dim, group = a.n_head / a.n_head_kv;
  for (int64_t h = 0; h < a.n_head; ++h) {
    const int64_t g = h / group;
    for (int64_t i = 0; i < a.n; ++i) {
      T* p = probs + (h * a.n + i) * a.n;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < a.n; ++j) {
        p[j] = a.sees(i, j) ? attention_score(q + i * qd + h * a.head_dim, k + j * kd + g * a.head_dim, a) : T(0);
        if (a.sees(i, j)) mx = std::max(mx, p[j]);
      }
      T sum = 0;
      for (int64_t j = 0; j < a.n; ++j) {
        p[j] = a.sees(i, j) ? std::exp(p[j] - mx) : T(0);
        sum += p[j];
      }
      T* o = out + i * qd + h * a.head_dim;
      std::fill_n(o, a.head_dim, T(0));
      for (int64_t j = 0; j < a.n; ++j) {
        p[j] /= sum;
        const T* vj = v + j * kd + g * a.head_dim;
        for (int64_t e = 0; e < a.head_dim; ++e) o[e] += p[j] * vj[e];
      }
    }
  }
}

// dq, dk, dv += the gradients of out given dout; probs from the forward (the capped scores are
// recomputed from q and k where soft-capping needs them).
template <typename T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* k, const T* v,
                        const AttentionDims& a) {
  const int64_t qd = a.n_head * a.head_dim, kd = a.n_head_kv * a.head_dim, group = a.n_head / a.n_head_kv;
  std::vector<T> dp(static_cast<size_t>(a.n));
  for (int64_t h = 0; h < a.n_head; ++h) {
    const int64_t g = h / group;
    for (int64_t i = 0; i < a.n; ++i) {
      const T* p = probs + (h * a.n + i) * a.n;
      const T* doi = dout + i * qd + h * a.head_dim;
      const T* qi = q + i * qd + h * a.head_dim;
      T dot = 0;  // sum_j p_j dp_j
      for (int64_t j = 0; j < a.n; ++j) {
        dp[j] = 0;
        if (!a.sees(i, j)) continue;
        const T* vj = v + j * kd + g * a.head_dim;
        T* dvj = dv + j * kd + g * a.head_dim;
        for (int64_t e = 0; e < a.head_dim; ++e) {
          dp[j] += doi[e] * vj[e];
          dvj[e] += p[j] * doi[e];
        }
        dot += p[j] * dp[j];
      }
      T* dqi = dq + i * qd + h * a.head_dim;
      for (int64_t j = 0; j < a.n; ++j) {
        if (!a.sees(i, j)) continue;
        const T* kj = k + j * kd + g * a.head_dim;
        T ds = p[j] * (dp[j] - dot);  // through the softmax
        if (a.softcap > 0.0f) {
          const T t = attention_score(qi, kj, a) / static_cast<T>(a.softcap);
          ds *= T(1) - t * t;
        }
        ds *= static_cast<T>(a.scale);
        T* dkj = dk + j * kd + g * a.head_dim;
        for (int64_t e = 0; e < a.head_dim; ++e) {
          dqi[e] += ds * kj[e];
          dkj[e] += ds * qi[e];
        }
      }
    }
  }
}

// ---- Cross-entropy of one row of logits against a target: -log softmax(logits)[target]. The
// gradient (softmax - onehot) times weight is written to dlogits (weight = 1 / number of targets
// of the batch gives the mean loss, as PyTorch and mlx-lm compute it). Returns the row's loss. ----

template <typename T>
T cross_entropy_forward_backward(T* dlogits, const T* logits, int64_t n_vocab, int64_t target, T weight) {
  T mx = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  T sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - mx);
  const T log_sum = std::log(sum) + mx;
  if (dlogits != nullptr) {
    for (int64_t i = 0; i < n_vocab; ++i) dlogits[i] = std::exp(logits[i] - log_sum) * weight;
    dlogits[target] -= weight;
  }
  return log_sum - logits[target];
}

// ---- A linear map with an optional LoRA: y = x·Wᵀ + scale · (x·Aᵀ)·Bᵀ, W (out, in), A (r, in),
// B (out, r), x (n, in). The frozen W's products are the caller's (ops::matmul and
// ops::matmul_backward_input, every weight type); these are the adapter's. ----

// u (n, r) = x·Aᵀ (each value ops::dot8); y (n, out) += scale · u·Bᵀ (the scalar reference of ops::add_lora).
template <typename T>
void lora_forward(T* y, T* u, const T* x, const T* a, const T* b, int64_t n, int64_t in, int64_t out, int64_t r,
                  T scale) {
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < r; ++j) u[t * r + j] = ops::dot8(x + t * in, a + j * in, in);
    for (int64_t o = 0; o < out; ++o) {
      T s = 0;
      for (int64_t j = 0; j < r; ++j) s += u[t * r + j] * b[o * r + j];
      y[t * out + o] += scale * s;
    }
  }
}

// With du (n, r) = scale · dy·B: dB += scale · dyᵀ·u, dA += duᵀ·x, dx += du·A (dx may be null).
template <typename T>
void lora_backward(T* dx, T* da, T* db, const T* dy, const T* x, const T* u, const T* a, const T* b, int64_t n,
                   int64_t in, int64_t out, int64_t r, T scale) {
  std::vector<T> du(static_cast<size_t>(r));
  for (int64_t t = 0; t < n; ++t) {
    const T* dyt = dy + t * out;
    for (int64_t j = 0; j < r; ++j) {
      T s = 0;
      for (int64_t o = 0; o < out; ++o) s += dyt[o] * b[o * r + j];
      du[j] = scale * s;
    }
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t j = 0; j < r; ++j) db[o * r + j] += scale * dyt[o] * u[t * r + j];
    }
    for (int64_t j = 0; j < r; ++j) {
      for (int64_t i = 0; i < in; ++i) {
        da[j * in + i] += du[j] * x[t * in + i];
        if (dx != nullptr) dx[t * in + i] += du[j] * a[j * in + i];
      }
    }
  }
}

}  // namespace owl::train
