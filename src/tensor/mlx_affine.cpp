// MLX affine quantization: bit-stream packing and the per-group quantize / dequantize of one row.
// Mirrors mlx/backend/cpu/quantized.cpp (mx.quantize, CPU backend) as written out in
// shared/fixtures/mlx-archs/README.md, "Dequantization and packing" and "How the codes were computed".
#include "tensor/mlx_affine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/fp16.h"

namespace owl::mlx {
namespace {

float load_scale(const uint16_t* p, int64_t i, ScaleType type) {
  uint16_t raw;
  std::memcpy(&raw, reinterpret_cast<const uint8_t*>(p) + 2 * i, 2);  // may be unaligned: no deref
  return type == ScaleType::bf16 ? bf16_to_fp32(raw) : fp16_to_fp32(raw);
}

void store_scale(uint16_t* p, int64_t i, ScaleType type, float v) {
  const uint16_t raw = type == ScaleType::bf16 ? fp32_to_bf16(v) : fp32_to_fp16(v);
  std::memcpy(reinterpret_cast<uint8_t*>(p) + 2 * i, &raw, 2);
}

// Codes [k0, k0 + m) of a row whose groups start at index 0. q < 2^8 and a 16-bit scale has at most 11
// significant bits, so q * scale is exact in float32: only the add rounds, with or without FMA contraction.
void dequantize_span(const uint8_t* codes, int64_t k0, int64_t m, int64_t group, ScaleType type, const uint16_t* scales,
                     const uint16_t* biases, float* w) {
  int64_t k = 0;
  while (k < m) {
    const int64_t g = (k0 + k) / group;
    const int64_t end = std::min(m, (g + 1) * group - k0);
    const float s = load_scale(scales, g, type);
    const float b = load_scale(biases, g, type);
    for (; k < end; ++k) w[k] = static_cast<float>(codes[k]) * s + b;
  }
}

}  // namespace

bool valid_bits(int bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8; }

// One bit stream for every width: MLX's 3/5/6-bit "pack 8 codes into b bytes" layout is the same stream.
void pack_row(const uint8_t* codes, int64_t n, int bits, uint8_t* packed) {
  const uint32_t mask = (1u << bits) - 1;
  uint32_t acc = 0;  // pending stream bits, lowest first; never more than 7 + 8
  int have = 0;
  for (int64_t k = 0; k < n; ++k) {
    acc |= (codes[k] & mask) << have;
    have += bits;
    while (have >= 8) {
      *packed++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      have -= 8;
    }
  }
  if (have > 0) *packed = static_cast<uint8_t>(acc);  // only when n*b is not a whole number of bytes
}

void unpack_row(const uint8_t* packed, int64_t n, int bits, uint8_t* codes) {
  const uint32_t mask = (1u << bits) - 1;
  uint32_t acc = 0;
  int have = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (have < bits) {
      acc |= static_cast<uint32_t>(*packed++) << have;
      have += 8;
    }
    codes[k] = static_cast<uint8_t>(acc & mask);
    acc >>= bits;
    have -= bits;
  }
}

void quantize_row(const float* w, int64_t n, int bits, int64_t group, ScaleType type, uint8_t* codes, uint16_t* scales,
                  uint16_t* biases) {
  const float n_bins = static_cast<float>((1 << bits) - 1);
  const float eps = 1e-7f;
  for (int64_t g = 0; g * group < n; ++g) {
    const float* x = w + g * group;
    // The CPU kernel starts the extremes at +-inf (Metal / CUDA start w_max at 0: different codes).
    float w_min = std::numeric_limits<float>::infinity();
    float w_max = -w_min;
    for (int64_t j = 0; j < group; ++j) {
      w_max = std::max(w_max, x[j]);
      w_min = std::min(w_min, x[j]);
    }
    // The larger-magnitude extreme becomes the bias; scale takes its sign so that codes run 0..n away
    // from it, and is then nudged (edge / q0) so that 0 lies exactly on the grid.
    const bool neg_edge = std::fabs(w_min) > std::fabs(w_max);
    float scale = std::max((w_max - w_min) / n_bins, eps);
    scale = neg_edge ? scale : -scale;
    const float edge = neg_edge ? w_min : w_max;
    const float q0 = std::nearbyint(edge / scale);  // rint: ties to even, as the CPU backend
    float bias = 0.0f;
    if (q0 != 0.0f) {
      scale = edge / q0;
      bias = edge;
    }
    // Codes use the float32 scale and bias; rounding them to the model dtype comes after.
    for (int64_t j = 0; j < group; ++j) {
      const float q = std::nearbyint((x[j] - bias) / scale);
      codes[g * group + j] = static_cast<uint8_t>(std::min(std::max(q, 0.0f), n_bins));
    }
    store_scale(scales, g, type, scale);
    store_scale(biases, g, type, bias);
  }
}

void dequantize_row(const uint8_t* codes, int64_t n, int64_t group, ScaleType type, const uint16_t* scales,
                    const uint16_t* biases, float* w) {
  dequantize_span(codes, 0, n, group, type, scales, biases, w);
}

void dequantize_packed_row(const uint8_t* packed, int64_t n, int bits, int64_t group, ScaleType type,
                           const uint16_t* scales, const uint16_t* biases, float* w) {
  // Chunks of 256 codes start on byte boundaries for every width (256 * b bits = 32 * b bytes).
  constexpr int64_t kChunk = 256;
  uint8_t codes[kChunk];
  for (int64_t k0 = 0; k0 < n; k0 += kChunk) {
    const int64_t m = std::min(kChunk, n - k0);
    unpack_row(packed + k0 / 8 * bits, m, bits, codes);
    dequantize_span(codes, k0, m, group, type, scales, biases, w + k0);
  }
}

}  // namespace owl::mlx
