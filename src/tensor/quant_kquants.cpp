// Scalar reference (de)quantization of the K-quant super-blocks q2_K, q3_K, q4_K, q5_K, q6_K, q8_K.
// Mirrors ggml's quantize_row_*_ref / dequantize_row_* (ggml-quants.c) operation for operation in float32
// (built with -ffp-contract=off), so the bytes match ggml's; with an importance vector, the scale searches of
// ggml's quantize_row_*_impl (llama-quantize --imatrix) instead. The searches live in quant_kquants_search.cpp.
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "tensor/blocks.h"
#include "tensor/kquant_scales.h"
#include "tensor/quant_kquants_search.h"

namespace owl {

namespace {

using kquant::k4_pack_scale_min;
using kquant::k4_scale_min;
using kquant::q3_k_scale;

// 2-bit fields: value j + l + 32*s (s = 0..3) of each 128-value half sits at bits 2s of qs[j/4 + l].
inline void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQkK; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Shared second pass of q4_K and q5_K: re-pick each quant against the stored (f16, 6-bit) scales and mins.
// Sub-blocks whose scale is zero keep the levels of the search.
inline void k4_requantize(const float* x, uint16_t d16, uint16_t dmin16, const uint8_t* scales, int nmax,
                          uint8_t* L) {
  for (int j = 0; j < kQkK / 32; ++j) {
    uint8_t sc;
    uint8_t m;
    k4_scale_min(j, scales, &sc, &m);
    const float d = fp16_to_fp32(d16) * static_cast<float>(sc);
    if (d == 0.0f) continue;
    const float dm = fp16_to_fp32(dmin16) * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii) {
      int l = nearest_int((x[32 * j + ii] + dm) / d);
      l = l < 0 ? 0 : (l > nmax ? nmax : l);
      L[32 * j + ii] = static_cast<uint8_t>(l);
    }
  }
}

// The scale/min search of q4_K and q5_K for one super-block: per 32-value sub-block a weighted
// (|x| + rms) affine fit, then 6-bit scales and mins relative to their maxima.
inline void k4_search(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* L, uint8_t* scales_out,
                      uint16_t* d_out, uint16_t* dmin_out) {
  uint8_t laux[32];
  float weights[32];
  float mins[kQkK / 32];
  float scales[kQkK / 32];
  float max_scale = 0;  // the mins are subtracted, so scales are positive
  float max_min = 0;
  for (int j = 0; j < kQkK / 32; ++j) {
    const float av_x = std::sqrt(sum_of_squares(x + 32 * j, 32) / 32.0f);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], laux, rmin, rdelta, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQkK / 32; ++j) {
    auto ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));  // narrowed first, as ggml does
    auto lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    k4_pack_scale_min(j, ls, lm, scales_out);
  }
  *d_out = fp32_to_fp16(max_scale / 63.f);
  *dmin_out = fp32_to_fp16(max_min / 63.f);
}

// The importance-weighted search of q4_K and q5_K: weights importance * sqrt(sigma^2 + x^2) with sigma^2
// twice the super-block's mean square, a finer affine search per sub-block, then the 6-bit scales and
// mins themselves fitted under the sub-blocks' total weights (make_qp_quants).
inline void k4_search_weighted(const float* x, const float* importance, int nmax, uint8_t* L, uint8_t* scales_out,
                               uint16_t* d_out, uint16_t* dmin_out) {
  uint8_t laux[32];
  float weights[32];
  float sw[kQkK / 32];
  float mins[kQkK / 32];
  float scales[kQkK / 32];
  uint8_t ls[kQkK / 32];
  uint8_t lm[kQkK / 32];
  const float sigma2 = 2 * sum_of_squares(x, kQkK) / kQkK;
  for (int j = 0; j < kQkK / 32; ++j) {
    sw[j] = importance_weights(x + 32 * j, importance + 32 * j, sigma2, 32, weights);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], laux, -0.9f, 0.05f, 36, false);
  }
  const float d_block = make_qp_quants(kQkK / 32, 63, scales, ls, sw);
  const float m_block = make_qp_quants(kQkK / 32, 63, mins, lm, sw);
  for (int j = 0; j < kQkK / 32; ++j) k4_pack_scale_min(j, ls[j], lm[j], scales_out);
  *d_out = fp32_to_fp16(d_block);
  *dmin_out = fp32_to_fp16(m_block);
}

}  // namespace

// ---- dequantization ---------------------------------------------------------------------------
// Each partial product (f16 scale x sub-scale x small integer) is exact in float32; the value rounds once.

void dequantize_row_q2_k(const BlockQ2_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int half = 0; half < kQkK; half += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {  // two groups of 16 values, each with its own scale
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * static_cast<float>(sc & 0x0f);
          const float ml = min * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dequantize_row_q3_k(const BlockQ3_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i) {
    const float d_all = fp16_to_fp32(x[i].d);
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    int is = 0;
    unsigned m = 1;  // hmask bit: value p has its high bit at bit p/32 of hmask[p%32]
    for (int half = 0; half < kQkK; half += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int part = 0; part < 2; ++part) {
          const float dl = d_all * static_cast<float>(q3_k_scale(x[i].scales, is++));
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int is = 0; is < kQkK / 32; is += 2, q += 32) {  // 64 values: low nibbles, then high nibbles
      uint8_t sc;
      uint8_t m;
      k4_scale_min(is, x[i].scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = min * static_cast<float>(m);
      k4_scale_min(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    unsigned u1 = 1;
    unsigned u2 = 2;
    for (int is = 0; is < kQkK / 32; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc;
      uint8_t m;
      k4_scale_min(is, x[i].scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = min * static_cast<float>(m);
      k4_scale_min(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0x0f) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int half = 0; half < kQkK; half += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | ((qh[l] >> 0) & 3) << 4) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | ((qh[l] >> 2) & 3) << 4) - 32;
        const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void dequantize_row_q8_k(const BlockQ8_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i) {
    for (int j = 0; j < kQkK; ++j) *y++ = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

// ---- reference quantization ------------------------------------------------------------------

// q2_K: per 16 values an affine fit (weights |x|, mean absolute error), scales and mins to 4 bits against
// their maxima, then each quant re-picked against the stored scale and min. With importance: weights
// importance * sqrt(sigma^2 + x^2), a least-squares fit, and the 4-bit scales and mins fitted themselves.
void quantize_row_q2_k(const float* x, BlockQ2_K* y, int64_t n, const float* importance) {
  uint8_t L[kQkK];
  uint8_t laux[16];
  float weights[16];
  float mins[kQkK / 16];
  float scales[kQkK / 16];
  const float q4scale = 15.f;
  for (int64_t i = 0; i < n / kQkK; ++i, x += kQkK) {
    if (importance != nullptr) {
      float sw[kQkK / 16];
      uint8_t ls[kQkK / 16];
      uint8_t lm[kQkK / 16];
      const float sigma2 = sum_of_squares(x, kQkK) / kQkK;
      const float* qw = importance + i * kQkK;
      for (int j = 0; j < kQkK / 16; ++j) {
        sw[j] = importance_weights(x + 16 * j, qw + 16 * j, sigma2, 16, weights);
        scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], laux, -0.9f, 0.05f, 36, false);
      }
      y[i].d = fp32_to_fp16(make_qp_quants(kQkK / 16, 15, scales, ls, sw));
      y[i].dmin = fp32_to_fp16(make_qp_quants(kQkK / 16, 15, mins, lm, sw));
      for (int j = 0; j < kQkK / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(ls[j] | (lm[j] << 4));
    } else {
      float max_scale = 0;
      float max_min = 0;
      for (int j = 0; j < kQkK / 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
        scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], laux, -0.5f, 0.1f, 15, true);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
      }
      if (max_scale > 0) {
        const float iscale = q4scale / max_scale;
        for (int j = 0; j < kQkK / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
        y[i].d = fp32_to_fp16(max_scale / q4scale);
      } else {
        for (int j = 0; j < kQkK / 16; ++j) y[i].scales[j] = 0;
        y[i].d = fp32_to_fp16(0.f);
      }
      if (max_min > 0) {
        const float iscale = q4scale / max_min;
        for (int j = 0; j < kQkK / 16; ++j) {
          const int l = nearest_int(iscale * mins[j]);
          y[i].scales[j] = static_cast<uint8_t>(y[i].scales[j] | (l << 4));
        }
        y[i].dmin = fp32_to_fp16(max_min / q4scale);
      } else {
        y[i].dmin = fp32_to_fp16(0.f);
      }
    }
    for (int j = 0; j < kQkK / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * static_cast<float>(y[i].scales[j] & 0x0f);
      if (d == 0.0f) continue;
      const float dm = fp16_to_fp32(y[i].dmin) * static_cast<float>(y[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        int l = nearest_int((x[16 * j + ii] + dm) / d);
        l = l < 0 ? 0 : (l > 3 ? 3 : l);
        L[16 * j + ii] = static_cast<uint8_t>(l);
      }
    }
    pack_2bit(L, y[i].qs);
  }
}

// One 6-bit q3_K scale l (0..63, stored offset by 32) into the 12 packed bytes (zeroed first).
inline void q3_k_pack_scale(int j, int l, uint8_t* scales) {
  if (j < 8) {
    scales[j] = static_cast<uint8_t>(l & 0x0f);
  } else {
    scales[j - 8] = static_cast<uint8_t>(scales[j - 8] | ((l & 0x0f) << 4));
  }
  scales[j % 4 + 8] = static_cast<uint8_t>(scales[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
}

// q3_K: per 16 values a symmetric fit refined by coordinate descent (make_q3_quants), 6-bit signed scales
// against the scale of largest magnitude, then each quant re-picked against the stored scale. With
// importance: a weighted fit per 16 values and the 6-bit scales fitted under the groups' total weights.
void quantize_row_q3_k(const float* x, BlockQ3_K* y, int64_t n, const float* importance) {
  int8_t L[kQkK];
  float scales[kQkK / 16];
  for (int64_t i = 0; i < n / kQkK; ++i, x += kQkK) {
    std::memset(y[i].scales, 0, sizeof y[i].scales);
    if (importance != nullptr) {
      float weights[16];
      float sw[kQkK / 16];
      int8_t ls[kQkK / 16];
      const float sigma2 = 2 * sum_of_squares(x, kQkK) / kQkK;
      const float* qw = importance + i * kQkK;
      for (int j = 0; j < kQkK / 16; ++j) {
        sw[j] = importance_weights(x + 16 * j, qw + 16 * j, sigma2, 16, weights);
        scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, weights);
      }
      const float d_block = make_qx_quants(kQkK / 16, 32, scales, ls, sw);
      for (int j = 0; j < kQkK / 16; ++j) q3_k_pack_scale(j, ls[j], y[i].scales);
      y[i].d = fp32_to_fp16(d_block);
    } else {
      float max_scale = 0;
      float amax = 0;
      for (int j = 0; j < kQkK / 16; ++j) {
        scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
        const float scale = std::fabs(scales[j]);
        if (scale > amax) {
          amax = scale;
          max_scale = scales[j];
        }
      }
      if (max_scale != 0.0f) {
        const float iscale = -32.f / max_scale;
        for (int j = 0; j < kQkK / 16; ++j) {
          auto l = static_cast<int8_t>(nearest_int(iscale * scales[j]));  // narrowed first, as ggml does
          q3_k_pack_scale(j, (l < -32 ? -32 : (l > 31 ? 31 : l)) + 32, y[i].scales);
        }
        y[i].d = fp32_to_fp16(1 / iscale);
      } else {
        y[i].d = fp32_to_fp16(0.f);
      }
    }
    for (int j = 0; j < kQkK / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * static_cast<float>(static_cast<int8_t>(q3_k_scale(y[i].scales, j)));
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = nearest_int(x[16 * j + ii] / d);
        l = l < -4 ? -4 : (l > 3 ? 3 : l);
        L[16 * j + ii] = static_cast<int8_t>(l + 4);
      }
    }
    std::memset(y[i].hmask, 0, sizeof y[i].hmask);
    uint8_t low[kQkK];
    for (int j = 0; j < kQkK; ++j) {  // value j: high bit at bit j/32 of hmask[j%32]
      int l = L[j];
      if (l > 3) {
        y[i].hmask[j % 32] = static_cast<uint8_t>(y[i].hmask[j % 32] | (1u << (j / 32)));
        l -= 4;
      }
      low[j] = static_cast<uint8_t>(l);
    }
    pack_2bit(low, y[i].qs);
  }
}

// q4_K: per 32 values a weighted affine fit, 6-bit scales and mins, quants re-picked against them.
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n, const float* importance) {
  uint8_t L[kQkK];
  for (int64_t i = 0; i < n / kQkK; ++i, x += kQkK) {
    if (importance != nullptr) {
      k4_search_weighted(x, importance + i * kQkK, 15, L, y[i].scales, &y[i].d, &y[i].dmin);
    } else {
      k4_search(x, 15, -1.f, 0.1f, 20, L, y[i].scales, &y[i].d, &y[i].dmin);
    }
    k4_requantize(x, y[i].d, y[i].dmin, y[i].scales, 15, L);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQkK; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
  }
}

// q5_K: as q4_K with 5-bit quants; the 5th bits go to qh (two bits per 64 values).
void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n, const float* importance) {
  uint8_t L[kQkK];
  for (int64_t i = 0; i < n / kQkK; ++i, x += kQkK) {
    if (importance != nullptr) {
      k4_search_weighted(x, importance + i * kQkK, 31, L, y[i].scales, &y[i].d, &y[i].dmin);
    } else {
      k4_search(x, 31, -0.5f, 0.1f, 15, L, y[i].scales, &y[i].d, &y[i].dmin);
    }
    k4_requantize(x, y[i].d, y[i].dmin, y[i].scales, 31, L);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, sizeof y[i].qh);
    unsigned m1 = 1;
    unsigned m2 = 2;
    for (int base = 0; base < kQkK; base += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[base + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] = static_cast<uint8_t>(qh[j] | m1);
        }
        int l2 = L[base + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] = static_cast<uint8_t>(qh[j] | m2);
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
    }
  }
}

// q6_K: per 16 values a symmetric fit (make_qx_quants, weights x^2, or the importance itself), 8-bit signed
// scales against the one of largest magnitude, quants re-picked against the stored scale.
void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n, const float* importance) {
  int8_t L[kQkK];
  float scales[kQkK / 16];
  for (int64_t i = 0; i < n / kQkK; ++i, x += kQkK) {
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQkK / 16; ++ib) {
      const float* qw = importance != nullptr ? importance + i * kQkK + 16 * ib : nullptr;
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, qw);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof y[i]);
      y[i].d = fp32_to_fp16(0.f);
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQkK / 16; ++ib) {
      const int l = nearest_int(iscale * scales[ib]);
      y[i].scales[ib] = static_cast<int8_t>(l < 127 ? l : 127);
    }
    for (int j = 0; j < kQkK / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * static_cast<float>(y[i].scales[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = nearest_int(x[16 * j + ii] / d);
        l = l < -32 ? -32 : (l > 31 ? 31 : l);
        L[16 * j + ii] = static_cast<int8_t>(l + 32);
      }
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQkK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int v0 = L[j + l];
        const int v1 = L[j + l + 32];
        const int v2 = L[j + l + 64];
        const int v3 = L[j + l + 96];
        ql[l] = static_cast<uint8_t>((v0 & 0x0f) | (v2 & 0x0f) << 4);
        ql[l + 32] = static_cast<uint8_t>((v1 & 0x0f) | (v3 & 0x0f) << 4);
        qh[l] = static_cast<uint8_t>((v0 >> 4) | (v1 >> 4) << 2 | (v2 >> 4) << 4 | (v3 >> 4) << 6);
      }
    }
  }
}

// q8_K: d = max / -127 with max the signed value of largest magnitude (stored as float32 1/iscale),
// q = nearest(x * -127/max), plus the sums of each 16 quants.
void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQkK; ++i, x += kQkK) {
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kQkK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      // ggml leaves bsums untouched here; owl writes zeros so the block is fully defined.
      std::memset(&y[i], 0, sizeof y[i]);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQkK; ++j) {
      const int v = nearest_int(iscale * x[j]);
      y[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int j = 0; j < kQkK / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace owl
