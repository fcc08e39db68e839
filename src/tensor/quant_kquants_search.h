// The scale searches shared by the K-quant reference quantizers (quant_kquants.cpp) and the
// importance-weighted ones (the same files, given an importance vector): ggml's nearest_int, their weights, make_qx_quants (rmse_type 1),
// make_q3_quants (do_rmse), make_qkx2_quants and make_qp_quants. Internal to src/tensor; each mirrors the
// ggml-quants.c function of the same name operation for operation.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace owl {

inline constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: a group this small is all zero

// Round to nearest, ties to even, through the float32 mantissa (|fval| <= 4194303; larger values give
// ggml's same meaningless but deterministic result).
inline int nearest_int(float fval) {
  const float val = fval + 12582912.f;
  const int32_t i = std::bit_cast<int32_t>(val);
  return (i & 0x007fffff) - 0x00400000;
}

// The sum of x[i]^2 in order (ggml's sum_x2 loops; sigma^2 of the weighted searches derives from it).
inline float sum_of_squares(const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// The weights of ggml's importance-weighted searches, w[i] = importance[i] * sqrt(sigma2 + x[i]^2) for n
// values; returns their sum (the group's total weight).
inline float importance_weights(const float* x, const float* importance, float sigma2, int n, float* w) {
  float sum = 0;
  for (int i = 0; i < n; ++i) {
    w[i] = importance[i] * std::sqrt(sigma2 + x[i] * x[i]);
    sum += w[i];
  }
  return sum;
}

// Symmetric levels L[i] in [0, 2*nmax) for x ~ scale*(L - nmax) under the given weights (null: x^2);
// tries 18 scales around nmax/max and keeps the best weighted least-squares fit. Returns the scale (0 for
// an all-zero group).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, const float* weights = nullptr);

// Symmetric levels L[i] in [0, 2*nmax), weights x^2, refined by up to 5 rounds of coordinate descent.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L);

// Affine levels L[i] in [0, nmax] for x ~ scale*L - the_min (the_min >= 0) under the given weights:
// nstep+1 candidate scales, each refit by weighted least squares; error |diff| when use_mad, else diff^2.
// (ggml's make_qkx3_quants with weights is this same computation.)
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);

// Non-negative levels L[i] in [0, nmax] for x ~ scale*L (x >= 0: a super-block's sub-block scales or mins),
// under the given weights: 9 scales around nmax/max, then up to 5 rounds of coordinate descent.
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* weights);

}  // namespace owl
