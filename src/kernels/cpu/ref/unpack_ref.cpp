// Scalar unpackers: every quantised block format to the integer path's form (uint8 u, and per
// group of G values a scale s and offset m with value = s*u + m). Mirrors tensor/quant_*.cpp's
// dequantize_row_* loop for loop, so the value order and scales are ggml's.
#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/kernels.h"
#include "tensor/kquant_scales.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace owl::kernels::ref {

using kquant::k4_scale_min;
using kquant::q3_k_scale;

namespace {

// value = d*(q - offset): s = d, m = -offset*d
void unpack_q4_0(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ4_0*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < kQk / 2; ++j) {
      u[j] = x[b].qs[j] & 0x0f;
      u[j + kQk / 2] = x[b].qs[j] >> 4;
    }
    s[b] = d;
    m[b] = -8.0f * d;
  }
}

void unpack_q4_1(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ4_1*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    for (int j = 0; j < kQk / 2; ++j) {
      u[j] = x[b].qs[j] & 0x0f;
      u[j + kQk / 2] = x[b].qs[j] >> 4;
    }
    s[b] = fp16_to_fp32(x[b].d);
    m[b] = fp16_to_fp32(x[b].m);
  }
}

uint32_t load_qh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

void unpack_q5_0(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ5_0*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    const uint32_t qh = load_qh(x[b].qh);
    for (int j = 0; j < kQk / 2; ++j) {
      u[j] = static_cast<uint8_t>((x[b].qs[j] & 0x0f) | ((qh >> j) & 1) << 4);
      u[j + kQk / 2] = static_cast<uint8_t>((x[b].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
    }
    const float d = fp16_to_fp32(x[b].d);
    s[b] = d;
    m[b] = -16.0f * d;
  }
}

void unpack_q5_1(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ5_1*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    const uint32_t qh = load_qh(x[b].qh);
    for (int j = 0; j < kQk / 2; ++j) {
      u[j] = static_cast<uint8_t>((x[b].qs[j] & 0x0f) | ((qh >> j) & 1) << 4);
      u[j + kQk / 2] = static_cast<uint8_t>((x[b].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
    }
    s[b] = fp16_to_fp32(x[b].d);
    m[b] = fp16_to_fp32(x[b].m);
  }
}

void unpack_q8_0(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ8_0*>(row);
  for (int64_t b = 0; b < k / kQk; ++b, u += kQk) {
    for (int j = 0; j < kQk; ++j) u[j] = static_cast<uint8_t>(x[b].qs[j] ^ 0x80);  // q + 128
    const float d = fp16_to_fp32(x[b].d);
    s[b] = d;
    m[b] = -128.0f * d;
  }
}

void unpack_q8_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ8_K*>(row);
  for (int64_t b = 0; b < k / kQkK; ++b, u += kQkK) {
    for (int j = 0; j < kQkK; ++j) u[j] = static_cast<uint8_t>(x[b].qs[j] ^ 0x80);
    for (int g = 0; g < kQkK / 32; ++g) {
      *s++ = x[b].d;
      *m++ = -128.0f * x[b].d;
    }
  }
}

// G = 16
void unpack_q2_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ2_K*>(row);
  for (int64_t b = 0; b < k / kQkK; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    const uint8_t* q = x[b].qs;
    int is = 0;
    for (int half = 0; half < kQkK; half += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {
          const uint8_t sc = x[b].scales[is++];
          *s++ = d * static_cast<float>(sc & 0x0f);
          *m++ = -(dmin * static_cast<float>(sc >> 4));
          for (int l = 0; l < 16; ++l) *u++ = (q[l + 16 * part] >> shift) & 3;
        }
      }
    }
  }
}

void unpack_q3_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ3_K*>(row);
  for (int64_t b = 0; b < k / kQkK; ++b) {
    const float d_all = fp16_to_fp32(x[b].d);
    const uint8_t* q = x[b].qs;
    const uint8_t* hm = x[b].hmask;
    int is = 0;
    unsigned mask = 1;
    for (int half = 0; half < kQkK; half += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, mask <<= 1) {
        for (int part = 0; part < 2; ++part) {
          const float dl = d_all * static_cast<float>(q3_k_scale(x[b].scales, is++));
          *s++ = dl;
          *m++ = -4.0f * dl;
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            *u++ = static_cast<uint8_t>(((q[l] >> shift) & 3) + ((hm[l] & mask) ? 4 : 0));
          }
        }
      }
    }
  }
}

void unpack_q4_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ4_K*>(row);
  for (int64_t b = 0; b < k / kQkK; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    const uint8_t* q = x[b].qs;
    for (int is = 0; is < kQkK / 32; is += 2, q += 32) {
      for (int h = 0; h < 2; ++h) {
        uint8_t sc;
        uint8_t mn;
        k4_scale_min(is + h, x[b].scales, &sc, &mn);
        *s++ = d * static_cast<float>(sc);
        *m++ = -(dmin * static_cast<float>(mn));
        for (int l = 0; l < 32; ++l) *u++ = h == 0 ? (q[l] & 0x0f) : (q[l] >> 4);
      }
    }
  }
}

void unpack_q5_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ5_K*>(row);
  for (int64_t b = 0; b < k / kQkK; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    const uint8_t* ql = x[b].qs;
    const uint8_t* qh = x[b].qh;
    unsigned u1 = 1;
    for (int is = 0; is < kQkK / 32; is += 2, ql += 32) {
      for (int h = 0; h < 2; ++h, u1 <<= 1) {
        uint8_t sc;
        uint8_t mn;
        k4_scale_min(is + h, x[b].scales, &sc, &mn);
        *s++ = d * static_cast<float>(sc);
        *m++ = -(dmin * static_cast<float>(mn));
        for (int l = 0; l < 32; ++l) {
          const int lo = h == 0 ? (ql[l] & 0x0f) : (ql[l] >> 4);
          *u++ = static_cast<uint8_t>(lo + ((qh[l] & u1) ? 16 : 0));
        }
      }
    }
  }
}

void unpack_q6_k(const void* row, int64_t k, uint8_t* u, float* s, float* m) {
  const auto* x = static_cast<const BlockQ6_K*>(row);
  for (int64_t b = 0; b < k / kQkK; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    const uint8_t* ql = x[b].ql;
    const uint8_t* qh = x[b].qh;
    const int8_t* sc = x[b].scales;
    for (int half = 0; half < 2; ++half, u += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        u[l] = static_cast<uint8_t>((ql[l] & 0x0f) | ((qh[l] >> 0) & 3) << 4);
        u[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0x0f) | ((qh[l] >> 2) & 3) << 4);
        u[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
        u[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4);
      }
      for (int j = 0; j < 8; ++j) {
        const float dl = d * static_cast<float>(sc[j]);
        *s++ = dl;
        *m++ = -32.0f * dl;
      }
    }
  }
}

}  // namespace

void fill_unpackers(UnpackFn* t) {
  t[static_cast<int>(DType::q4_0)] = unpack_q4_0;
  t[static_cast<int>(DType::q4_1)] = unpack_q4_1;
  t[static_cast<int>(DType::q5_0)] = unpack_q5_0;
  t[static_cast<int>(DType::q5_1)] = unpack_q5_1;
  t[static_cast<int>(DType::q8_0)] = unpack_q8_0;
  t[static_cast<int>(DType::q2_k)] = unpack_q2_k;
  t[static_cast<int>(DType::q3_k)] = unpack_q3_k;
  t[static_cast<int>(DType::q4_k)] = unpack_q4_k;
  t[static_cast<int>(DType::q5_k)] = unpack_q5_k;
  t[static_cast<int>(DType::q6_k)] = unpack_q6_k;
  t[static_cast<int>(DType::q8_k)] = unpack_q8_k;
}

}  // namespace owl::kernels::ref
