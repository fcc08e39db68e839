// Scalar reference (de)quantization of f16, bf16 and the 32-value block types q4_0, q4_1, q5_0, q5_1, q8_0.
// Mirrors ggml's quantize_row_*_ref / dequantize_row_* (ggml-quants.c) rounding rule for rounding rule;
// ../shared/fixtures/quant-goldens pins the bytes. With an importance vector, the 4- and 5-bit types run
// ggml's importance-weighted searches instead (quantize_row_*_impl, llama-quantize --imatrix). Built with -ffp-contract=off: every operation rounds to float32.
#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant_kquants_search.h"

namespace owl {

namespace {

// C's (int)f as x86 performs it (cvttss2si): truncation toward zero, INT_MIN for NaN and out-of-range
// values. ggml's casts such as (int8_t)(x + 8.5f) are this followed by a narrowing to 8 bits; spelling it
// out keeps non-finite input (no UB) giving the bytes an x86 ggml build gives.
inline int trunc_to_int(float f) {
  if (!(f > -2147483904.0f && f < 2147483648.0f)) return INT_MIN;
  return static_cast<int>(f);
}

// The value of largest magnitude, with its sign; the first one wins a tie (ggml: `if (amax < fabsf(v))`).
inline float signed_absmax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// Smallest and largest value of a block, as ggml's q4_1/q5_1 scan them.
inline void block_min_max(const float* x, int n, float* min, float* max) {
  float lo = FLT_MAX;
  float hi = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *min = lo;
  *max = hi;
}

inline uint32_t load_qh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, sizeof v);
  return v;
}

// Importance-weighted searches run per 32-value block under weights importance * sqrt(sigma^2 + x^2),
// sigma^2 the mean square of the whole row.
class BlockWeights {
 public:
  BlockWeights(const float* x, const float* importance, int64_t n)
      : importance_(importance), sigma2_(sum_of_squares(x, n) / static_cast<float>(n)) {}
  const float* of_block(const float* xb, int64_t ib) {
    importance_weights(xb, importance_ + ib * kQk, sigma2_, kQk, w_);
    return w_;
  }

 private:
  const float* importance_;
  float sigma2_;
  float w_[kQk];
};

// Levels 0..15 (or 0..31, the fifth bits to qh) of one block, value j and j + 16 sharing byte j.
template <typename Level>
inline void pack_nibbles(const Level* L, uint8_t* qs, uint8_t* qh) {
  uint32_t high = 0;
  for (int j = 0; j < kQk / 2; ++j) {
    const uint32_t l0 = static_cast<uint8_t>(L[j]);  // levels are never negative
    const uint32_t l1 = static_cast<uint8_t>(L[j + kQk / 2]);
    qs[j] = static_cast<uint8_t>((l0 & 0x0f) | (l1 & 0x0f) << 4);
    high |= ((l0 >> 4) & 1u) << j | ((l1 >> 4) & 1u) << (j + kQk / 2);
  }
  if (qh != nullptr) std::memcpy(qh, &high, sizeof high);
}

// q4_0 / q5_0 with importance: a weighted symmetric fit with levels -nmax..nmax-1.
template <typename Block>
void quantize_symmetric_weighted(const float* x, Block* y, int64_t n, const float* importance, int nmax) {
  BlockWeights weights(x, importance, n);
  int8_t L[kQk];
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* xb = x + i * kQk;
    y[i].d = fp32_to_fp16(make_qx_quants(kQk, nmax, xb, L, weights.of_block(xb, i)));
    if constexpr (requires { y[i].qh; }) {
      pack_nibbles(L, y[i].qs, y[i].qh);
    } else {
      pack_nibbles(L, y[i].qs, nullptr);
    }
  }
}

// q4_1 / q5_1 with importance: a weighted affine fit with levels 0..nmax.
template <typename Block>
void quantize_affine_weighted(const float* x, Block* y, int64_t n, const float* importance, int nmax) {
  BlockWeights weights(x, importance, n);
  uint8_t L[kQk];
  uint8_t laux[kQk];
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* xb = x + i * kQk;
    float min;
    y[i].d = fp32_to_fp16(make_qkx2_quants(kQk, nmax, xb, weights.of_block(xb, i), L, &min, laux, -0.9f, 0.05f, 36, false));
    y[i].m = fp32_to_fp16(-min);
    if constexpr (requires { y[i].qh; }) {
      pack_nibbles(L, y[i].qs, y[i].qh);
    } else {
      pack_nibbles(L, y[i].qs, nullptr);
    }
  }
}

}  // namespace

// ---- float types ------------------------------------------------------------------------------

void dequantize_row_f16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}

void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}

void quantize_row_f16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void quantize_row_bf16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

// ---- dequantization: every product (f16 scale x small integer) is exact, one rounding at most ----

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i, y += kQk) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQk / 2; ++j) {
      const int q0 = (x[i].qs[j] & 0x0f) - 8;
      const int q1 = (x[i].qs[j] >> 4) - 8;
      y[j] = static_cast<float>(q0) * d;
      y[j + kQk / 2] = static_cast<float>(q1) * d;
    }
  }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i, y += kQk) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQk / 2; ++j) {
      const int q0 = x[i].qs[j] & 0x0f;
      const int q1 = x[i].qs[j] >> 4;
      y[j] = static_cast<float>(q0) * d + m;
      y[j + kQk / 2] = static_cast<float>(q1) * d + m;
    }
  }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i, y += kQk) {
    const float d = fp16_to_fp32(x[i].d);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQk / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + kQk / 2)) & 1u) << 4;
      const int q0 = ((x[i].qs[j] & 0x0f) | h0) - 16;
      const int q1 = ((x[i].qs[j] >> 4) | h1) - 16;
      y[j] = static_cast<float>(q0) * d;
      y[j + kQk / 2] = static_cast<float>(q1) * d;
    }
  }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i, y += kQk) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQk / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + kQk / 2)) & 1u) << 4;
      const int q0 = (x[i].qs[j] & 0x0f) | h0;
      const int q1 = (x[i].qs[j] >> 4) | h1;
      y[j] = static_cast<float>(q0) * d + m;
      y[j + kQk / 2] = static_cast<float>(q1) * d + m;
    }
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i, y += kQk) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQk; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ---- reference quantization ------------------------------------------------------------------
// The scale d is computed in float32, the reciprocal uses that unrounded d, and only the stored d is
// rounded to f16 (so the stored scale and the one used to pick q may differ in their last bits: ggml does
// the same, and the goldens depend on it).

// q4_0: d = max / -8 with max the signed value of largest magnitude; q = min(15, (int8)(x/d + 8.5)).
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n, const float* importance) {
  if (importance != nullptr) return quantize_symmetric_weighted(x, y, n, importance, 8);
  for (int64_t i = 0; i < n / kQk; ++i, x += kQk) {
    const float max = signed_absmax(x, kQk);
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQk / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[j + kQk / 2] * id;
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_to_int(x0 + 8.5f))));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_to_int(x1 + 8.5f))));
      y[i].qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | static_cast<uint8_t>(q1) << 4);
    }
  }
}

// q4_1: d = (max - min) / 15, m = min; q = min(15, (int8)((x - min)/d + 0.5)).
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n, const float* importance) {
  if (importance != nullptr) return quantize_affine_weighted(x, y, n, importance, 15);
  for (int64_t i = 0; i < n / kQk; ++i, x += kQk) {
    float min;
    float max;
    block_min_max(x, kQk, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kQk / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[j + kQk / 2] - min) * id;
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_to_int(x0 + 0.5f))));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_to_int(x1 + 0.5f))));
      y[i].qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | static_cast<uint8_t>(q1) << 4);
    }
  }
}

// q5_0: d = max / -16; q = min(31, (int8)(x/d + 16.5)).
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n, const float* importance) {
  if (importance != nullptr) return quantize_symmetric_weighted(x, y, n, importance, 16);
  for (int64_t i = 0; i < n / kQk; ++i, x += kQk) {
    const float max = signed_absmax(x, kQk);
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQk / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[j + kQk / 2] * id;
      const auto q0 = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<int8_t>(trunc_to_int(x0 + 16.5f)))));
      const auto q1 = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<int8_t>(trunc_to_int(x1 + 16.5f)))));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | (q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQk / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof qh);
  }
}

// q5_1: d = (max - min) / 31, m = min; q = (uint8)((x - min)/d + 0.5), no clamp (as in ggml).
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n, const float* importance) {
  if (importance != nullptr) return quantize_affine_weighted(x, y, n, importance, 31);
  for (int64_t i = 0; i < n / kQk; ++i, x += kQk) {
    float min;
    float max;
    block_min_max(x, kQk, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQk / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[j + kQk / 2] - min) * id;
      const auto q0 = static_cast<uint8_t>(trunc_to_int(x0 + 0.5f));
      const auto q1 = static_cast<uint8_t>(trunc_to_int(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | (q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQk / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof qh);
  }
}

// q8_0: d = amax / 127; q = roundf(x/d), halfway cases away from zero.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i, x += kQk) {
    float amax = 0.0f;
    for (int j = 0; j < kQk; ++j) {
      const float ax = std::fabs(x[j]);
      amax = amax > ax ? amax : ax;  // ggml's MAX(amax, fabsf(v)), NaN included
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQk; ++j) y[i].qs[j] = static_cast<int8_t>(trunc_to_int(std::round(x[j] * id)));
  }
}

}  // namespace owl
