// The packed 6-bit scales of the K-quants, shared by the unpackers and the load-time packer.
#pragma once

#include <cstdint>

namespace owl::kernels::ref {

// Scale and min j (0..7) of a q4_K/q5_K super-block (ggml's get_scale_min_k4).
inline void k4_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Signed scale j (0..15, range -32..31) of a q3_K super-block.
inline int q3_k_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? scales[j] & 0x0f : scales[j - 8] >> 4;
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | high << 4) - 32;
}

}  // namespace owl::kernels::ref
