// Scalar reference of the integer path: activation quantisation (q8_0-style per 32 values, or
// q8_K-style per 256), the 16-row interleave and the 16-row x n-token integer GEMM. The SIMD
// versions in avx2/ and avx512/ follow the same arithmetic (int32 sums per group, then the float
// scales per group or per activation block: kernels.h) and are tested against these.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/ref/vec.h"

namespace owl::kernels::ref {

float dot_f32_row(const float* a, const float* b, int64_t n) { return dot_f32(a, b, n); }

void f16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(src[i]);
}

void quantize_acts(const float* x, int64_t k, int64_t kp, int block, int8_t* q, float* d16, float* s16, float* d32,
                   float* s32, int32_t* sq16, int32_t* sq32) {
  for (int64_t b0 = 0; b0 < kp; b0 += block) {
    const int64_t end = std::min<int64_t>(b0 + block, kp);
    float amax = 0.0f;
    for (int64_t i = b0; i < end; ++i) amax = std::max(amax, i < k ? std::fabs(x[i]) : 0.0f);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int64_t base = b0; base < end; base += 32) {
      const int64_t b = base / 32;
      int32_t sums[2] = {0, 0};
      for (int j = 0; j < 32; ++j) {
        const float v = base + j < k ? x[base + j] * id : 0.0f;
        const auto qi = static_cast<int32_t>(std::nearbyint(v));
        q[base + j] = static_cast<int8_t>(qi);
        sums[j / 16] += qi;
      }
      store_act_sums(b, d, sums[0], sums[1], d16, s16, d32, s32, sq16, sq32);
    }
  }
}

void store_act_sums(int64_t b, float d, int32_t sum0, int32_t sum1, float* d16, float* s16, float* d32, float* s32,
                    int32_t* sq16, int32_t* sq32) {
  d16[2 * b] = d;
  d16[2 * b + 1] = d;
  s16[2 * b] = d * static_cast<float>(sum0);
  s16[2 * b + 1] = d * static_cast<float>(sum1);
  d32[b] = d;
  s32[b] = d * static_cast<float>(sum0 + sum1);
  sq16[2 * b] = sum0;
  sq16[2 * b + 1] = sum1;
  sq32[b] = sum0 + sum1;
}

void interleave(const uint8_t* u, const float* s, const float* m, int64_t kp, int g, uint8_t* u_il, float* s_il,
                float* m_il) {
  for (int64_t k4 = 0; k4 < kp / 4; ++k4) {
    for (int r = 0; r < 16; ++r) std::memcpy(u_il + (k4 * 16 + r) * 4, u + r * kp + k4 * 4, 4);
  }
  const int64_t ng = kp / g;
  for (int64_t j = 0; j < ng; ++j) {
    for (int r = 0; r < 16; ++r) {
      s_il[j * 16 + r] = s[r * ng + j];
      m_il[j * 16 + r] = m[r * ng + j];
    }
  }
}

void gemm_q16(const uint8_t* u_il, const float* s_il, const float* m_il, int64_t kp, int g, const TiledActs& a,
              int64_t n_tokens, float* out) {
  const int64_t ng = kp / g;
  const int64_t bg = a.block_groups;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int64_t tile = t / kTileTokens;
    const int64_t tt = t % kTileTokens;
    const int8_t* q = a.q + tile * kTileTokens * kp;  // value k of token tt at ((k/4)*kTileTokens + tt)*4 + k%4
    const float* d = a.d + tile * kTileTokens * ng;
    const float* sm = a.sm + tile * kTileTokens * ng;
    const int32_t* off = a.off != nullptr ? a.off + tile * kTileTokens * ng : nullptr;
    for (int r = 0; r < 16; ++r) {
      float acc = 0.0f;
      float block = 0.0f;  // the current activation block's sum, before its scale (block_groups > 1)
      for (int64_t j = 0; j < ng; ++j) {
        int32_t isum = off != nullptr ? off[j * kTileTokens + tt] : 0;
        for (int64_t k = j * g; k < (j + 1) * g; ++k) {
          isum +=
              static_cast<int32_t>(u_il[((k / 4) * 16 + r) * 4 + k % 4]) * q[((k / 4) * kTileTokens + tt) * 4 + k % 4];
        }
        if (bg == 1) {
          const float scale = s_il[j * 16 + r] * d[j * kTileTokens + tt];
          acc = std::fma(static_cast<float>(isum), scale, acc);
          if (off == nullptr) acc = std::fma(m_il[j * 16 + r], sm[j * kTileTokens + tt], acc);
          continue;
        }
        block = std::fma(static_cast<float>(isum), s_il[j * 16 + r], block);
        if (off == nullptr) block = std::fma(m_il[j * 16 + r], sm[j * kTileTokens + tt], block);
        if ((j + 1) % bg == 0) {
          acc = std::fma(block, d[j * kTileTokens + tt], acc);
          block = 0.0f;
        }
      }
      out[t * 16 + r] = acc;
    }
  }
}

}  // namespace owl::kernels::ref
