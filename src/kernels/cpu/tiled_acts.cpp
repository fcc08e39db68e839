// TiledActs: quantised activations regrouped by tiles of kTileTokens tokens (see kernels.h). A pure
// data movement, done once per matmul and shared by every row group, so it stays scalar.
#include <cstring>

#include "kernels/cpu/kernels.h"

namespace owl::kernels {

void tile_acts(const QuantActs& acts, int64_t n_tokens, int64_t kp, int g, int block_groups, int c, int8_t* q, float* d,
               float* sm, int32_t* off) {
  const bool per_group = block_groups == 1;  // sm: d * sum(q); else the plain sum(q), scaled per block
  const int64_t ng = kp / g;
  const float* src_d = g == 16 ? acts.d16 : acts.d32;
  const float* src_s = g == 16 ? acts.s16 : acts.s32;
  const int32_t* src_sq = g == 16 ? acts.sq16 : acts.sq32;
  const int64_t n_tiles = (n_tokens + kTileTokens - 1) / kTileTokens;
  for (int64_t tile = 0; tile < n_tiles; ++tile) {
    int8_t* tq = q + tile * kTileTokens * kp;
    float* td = d + tile * kTileTokens * ng;
    float* ts = sm + tile * kTileTokens * ng;
    int32_t* to = c != 0 ? off + tile * kTileTokens * ng : nullptr;
    for (int t = 0; t < kTileTokens; ++t) {
      const int64_t token = tile * kTileTokens + t;
      if (token >= n_tokens) {
        for (int64_t col = 0; col < kp / 4; ++col) std::memset(tq + (col * kTileTokens + t) * 4, 0, 4);
        for (int64_t j = 0; j < ng; ++j) {
          td[j * kTileTokens + t] = ts[j * kTileTokens + t] = 0.0f;
          if (to != nullptr) to[j * kTileTokens + t] = 0;
        }
        continue;
      }
      const int8_t* row = acts.q + token * kp;
      for (int64_t col = 0; col < kp / 4; ++col) std::memcpy(tq + (col * kTileTokens + t) * 4, row + col * 4, 4);
      for (int64_t j = 0; j < ng; ++j) {
        td[j * kTileTokens + t] = src_d[token * ng + j];
        ts[j * kTileTokens + t] = per_group ? src_s[token * ng + j] : static_cast<float>(src_sq[token * ng + j]);
        if (to != nullptr) to[j * kTileTokens + t] = c * src_sq[token * ng + j];
      }
    }
  }
}

}  // namespace owl::kernels
