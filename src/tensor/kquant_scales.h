// The packed 6-bit scales of the K-quant super-blocks, read and written in one place: by the
// reference (de)quantizers here, and by the kernels' unpackers and load-time packer.
#pragma once

#include <cstdint>

namespace owl::kquant {

// 16 6-bit q3_K scales packed in 12 bytes: low nibbles in bytes 0..7 (scale j and j+8 share byte j%8),
// high 2-bit pairs in bytes 8..11 (scale j at bits 2*(j/4) of byte 8 + j%4). Returned offset by -32.
inline int q3_k_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? scales[j] & 0x0f : scales[j - 8] >> 4;
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | high << 4) - 32;
}

// Scale and min j (0..7) of a q4_K/q5_K super-block: 8 6-bit scales and 8 6-bit mins packed in
// 12 bytes (ggml's get_scale_min_k4).
inline void k4_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The inverse of k4_scale_min for scale ls and min lm (6 bits each); scales starts zeroed.
inline void k4_pack_scale_min(int j, uint8_t ls, uint8_t lm, uint8_t* scales) {
  if (j < 4) {
    scales[j] = ls;
    scales[j + 4] = lm;
  } else {
    scales[j + 4] = static_cast<uint8_t>((ls & 0x0f) | ((lm & 0x0f) << 4));
    scales[j - 4] = static_cast<uint8_t>(scales[j - 4] | ((ls >> 4) << 6));
    scales[j] = static_cast<uint8_t>(scales[j] | ((lm >> 4) << 6));
  }
}

}  // namespace owl::kquant
