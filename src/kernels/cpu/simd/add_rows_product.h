// The transposed product of training (kernels.h AddRowsProductFn) written once for every ISA:
// dx[t][c] += Σ_r dy[t][r] · w[r][c]. Register tiles of kOuterTokens tokens x kOuterVectors
// vectors of columns: for each row in order, its vectors are loaded once for every token of the
// tile (dy broadcast), and dx stays in registers across the rows. Each dx value is one FMA chain
// over the rows in order, starting from its own value, so every SIMD ISA gives the same bits (the
// scalar reference rounds each product before adding it).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/cpu/kernels.h"

namespace owl::kernels::simd {

namespace outer {

// Columns [c, c + V·L) of T tokens; with kTail the last vector holds only `left` columns.
template <class S, int T, int V, bool kTail>
void tile(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w, int64_t w_stride,
          int64_t n_rows, int64_t left) {
  constexpr int kL = S::kLanes;
  // Only the tail's vector is masked: AVX2's masked moves are slow (its masked store is
  // microcoded on AMD), and an all-ones mask would still pay for them.
  const auto last = kTail ? S::tail(left) : S::all();
  const auto load = [&](const float* p, int v) {
    return kTail && v == V - 1 ? S::load(p, last) : S::load(p);
  };
  typename S::F acc[T][V];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[t][v] = load(dx + t * dx_stride + v * kL, v);
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    typename S::F wv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) wv[v] = load(w + r * w_stride + v * kL, v);
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const auto g = S::broadcast(dy + t * dy_stride + r);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[t][v] = S::fma(g, wv[v], acc[t][v]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      if (kTail && v == V - 1) {
        S::store(dx + t * dx_stride + v * kL, last, acc[t][v]);
      } else {
        S::store(dx + t * dx_stride + v * kL, acc[t][v]);
      }
    }
  }
}

using TileFn = void (*)(float*, int64_t, const float*, int64_t, const float*, int64_t, int64_t, int64_t);

// tile<T, V, kTail> for every T up to kOuterTokens: entry T - 1.
template <class S, int V, bool kTail, size_t... I>
constexpr auto tiles(std::index_sequence<I...> /*entries*/) {
  return std::array<TileFn, sizeof...(I)>{&tile<S, static_cast<int>(I) + 1, V, kTail>...};
}

}  // namespace outer

template <class S>
void add_rows_product(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w,
                      int64_t w_stride, int64_t n_tokens, int64_t n_rows, int64_t width) {
  constexpr int kT = S::kOuterTokens, kV = S::kOuterVectors, kL = S::kLanes;
  static constexpr auto kWide = outer::tiles<S, kV, false>(std::make_index_sequence<kT>());
  static constexpr auto kOne = outer::tiles<S, 1, false>(std::make_index_sequence<kT>());
  static constexpr auto kLast = outer::tiles<S, 1, true>(std::make_index_sequence<kT>());
  // A short last tile keeps too few sums to fill the FMA units: with it the tile before splits evenly.
  const int64_t rem = n_tokens % kT, split_at = rem > 0 && rem < kT / 2 && n_tokens > kT ? n_tokens - kT - rem : -1;
  for (int64_t t = 0; t < n_tokens;) {
    const int64_t tokens = t == split_at ? (kT + rem) / 2 : std::min<int64_t>(kT, n_tokens - t);
    const auto nt = static_cast<size_t>(tokens - 1);
    float* dxt = dx + t * dx_stride;
    const float* dyt = dy + t * dy_stride;
    int64_t c = 0;
    for (; c + kV * kL <= width; c += kV * kL)
      kWide[nt](dxt + c, dx_stride, dyt, dy_stride, w + c, w_stride, n_rows, 0);
    for (; c + kL <= width; c += kL) kOne[nt](dxt + c, dx_stride, dyt, dy_stride, w + c, w_stride, n_rows, 0);
    if (c < width) kLast[nt](dxt + c, dx_stride, dyt, dy_stride, w + c, w_stride, n_rows, width - c);
    t += tokens;
  }
}

}  // namespace owl::kernels::simd
