// The float GEMM (kernels.h GemmFloatFn) written once for every ISA, for f32, f16 and bf16
// weights: y[t][r] = row r of w dotted with token t of x.
//
// Numbers: every (row, token) sum runs lane-wise over k (lane l adds the products of columns
// l, l + L, l + 2L, ... in order, L = S::kLanes) and is reduced once by S::reduce_add, whatever
// the tile or blocking, so one token alone (decode) and a batch (prefill) give identical numbers.
//
// Speed: register tiles of S::kGemmRows rows x S::kGemmTokens tokens (the most accumulators the
// ISA's registers hold beside one vector per token and one of weights), rows outer, so a tile's
// rows stay in L1 while every token of a block passes them (gemm_typed: blocks of tokens whose
// activations stay in L2). Long rows with many tokens are cut into panels, the lane-wise sums
// waiting in a buffer between panels. Measured against the hand-written kernels this replaced
// (bench/train_gemm_bench.cpp, f32, 2 threads, Zen 4, bench/RESULTS.md): AVX2 1.4-1.9x (their
// 2 x 4 tile against 4 x 3), AVX-512 0.96-1.1x.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "tensor/dtype.h"

namespace owl::kernels::simd {

namespace gemm {

// Longer rows are cut into panels of kPanel columns when there are at least kPanelTokens tokens
// (fewer stream the weights from memory once anyway).
inline constexpr int64_t kPanel = 2048;
inline constexpr int64_t kPanelTokens = 8;

template <class S, DType T>
[[gnu::always_inline]] inline typename S::F load_weights(const uint8_t* row, int64_t i) {
  if constexpr (T == DType::f32) return S::load(reinterpret_cast<const float*>(row) + i);
  if constexpr (T == DType::f16) return S::load_f16(reinterpret_cast<const uint16_t*>(row) + i);
  if constexpr (T == DType::bf16) return S::load_bf16(reinterpret_cast<const uint16_t*>(row) + i);
}

template <class S, DType T>
[[gnu::always_inline]] inline typename S::F load_weights(const uint8_t* row, int64_t i, typename S::Mask m) {
  if constexpr (T == DType::f32) return S::load(reinterpret_cast<const float*>(row) + i, m);
  if constexpr (T == DType::f16) return S::load_f16(reinterpret_cast<const uint16_t*>(row) + i, m);
  if constexpr (T == DType::bf16) return S::load_bf16(reinterpret_cast<const uint16_t*>(row) + i, m);
}

template <DType T>
inline constexpr int64_t elem_bytes = T == DType::f32 ? 4 : 2;
// Decoding streams the rows from memory; a tile asks for the next tile's rows (R rows further) at
// the column it reads, once per 64-byte line, so that they arrive while this one computes.
template <DType T>
inline constexpr int64_t kPrefetchEvery = 64 / elem_bytes<T>;

// Adds the products over columns [i0, i1) of R rows and N tokens (token t at x + t·k) to the
// register tile a: full vectors, then one masked step where i1 is not on a vector boundary (only
// at k: panels start and end on vector boundaries). The unroll pragmas keep the tile in registers:
// without them g++ 12 stores the array back to the stack at every step.
template <class S, DType T, int R, int N>
[[gnu::always_inline]] inline void sweep(const uint8_t* w, size_t row_stride, int64_t i0, int64_t i1, int64_t k,
                                         const float* x, typename S::F (&a)[R][N]) {
  using F = typename S::F;
  int64_t i = i0;
  for (; i + S::kLanes <= i1; i += S::kLanes) {
    if constexpr (N == 1) {  // decode: see kPrefetchEvery
      if (i % kPrefetchEvery<T> == 0) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) __builtin_prefetch(w + (R + r) * row_stride + i * elem_bytes<T>, 0, 3);
      }
    }
    F xv[N];
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) xv[t] = S::load(x + t * k + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const F wv = load_weights<S, T>(w + r * row_stride, i);
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) a[r][t] = S::fma(wv, xv[t], a[r][t]);
    }
  }
  if (i < i1) {
    const auto m = S::tail(i1 - i);
    F xv[N];
#pragma GCC unroll 8
    for (int t = 0; t < N; ++t) xv[t] = S::load(x + t * k + i, m);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const F wv = load_weights<S, T>(w + r * row_stride, i, m);
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) a[r][t] = S::fma(wv, xv[t], a[r][t]);
    }
  }
}

// R rows x N tokens over the whole k, in registers, reduced into y.
template <class S, DType T, int R, int N>
struct DirectTile {
  static void run(const uint8_t* w, size_t row_stride, int64_t k, const float* x, float* y, int64_t y_stride) {
    typename S::F a[R][N];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) a[r][t] = S::zero();
    }
    sweep<S, T, R, N>(w, row_stride, 0, k, k, x, a);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) y[t * y_stride + r] = S::reduce_add(a[r][t]);
    }
  }
};

// R rows x N tokens over the panel [i0, i1), their lane-wise sums kept in acc: row r, token t at
// acc + (r·n_tokens + t)·L.
template <class S, DType T, int R, int N>
struct PanelTile {
  static void run(const uint8_t* w, size_t row_stride, int64_t i0, int64_t i1, int64_t k, const float* x, float* acc,
                  int64_t n_tokens) {
    constexpr int kL = S::kLanes;
    typename S::F a[R][N];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) a[r][t] = S::load(acc + (r * n_tokens + t) * kL);
    }
    sweep<S, T, R, N>(w, row_stride, i0, i1, k, x, a);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < N; ++t) S::store(acc + (r * n_tokens + t) * kL, a[r][t]);
    }
  }
};

// Tile<R, N>::run for every (rows, tokens) up to the full tile, so that the edges of a call run
// smaller tiles: entry (R - 1)·kGemmTokens + N - 1.
template <class S, DType T, template <class, DType, int, int> class Tile, size_t... I>
constexpr auto tile_table(std::index_sequence<I...> /*entries*/) {
  constexpr int kN = S::kGemmTokens;
  return std::array{&Tile<S, T, static_cast<int>(I) / kN + 1, static_cast<int>(I) % kN + 1>::run...};
}

template <class S, DType T>
void gemm_block(const uint8_t* w, size_t row_stride, int64_t n_rows, int64_t k, const float* x, int64_t n_tokens,
                float* y, int64_t y_stride) {
  constexpr int kR = S::kGemmRows, kN = S::kGemmTokens, kL = S::kLanes;
  static constexpr auto kDirect = tile_table<S, T, DirectTile>(std::make_index_sequence<kR * kN>());
  static constexpr auto kPanelTiles = tile_table<S, T, PanelTile>(std::make_index_sequence<kR * kN>());
  if (k <= kPanel || n_tokens < kPanelTokens) {
    for (int64_t r = 0; r < n_rows; r += kR) {
      const int64_t rr = std::min<int64_t>(kR, n_rows - r);
      for (int64_t t = 0; t < n_tokens; t += kN) {
        const int64_t nt = std::min<int64_t>(kN, n_tokens - t);
        kDirect[static_cast<size_t>((rr - 1) * kN + nt - 1)](w + r * row_stride, row_stride, k, x + t * k,
                                                             y + t * y_stride + r, y_stride);
      }
    }
    return;
  }
  thread_local std::vector<float> acc_buf;
  const auto n_acc = static_cast<size_t>(n_rows * n_tokens * kL);
  if (acc_buf.size() < n_acc) acc_buf.resize(n_acc);
  float* acc = acc_buf.data();
  std::fill_n(acc, n_acc, 0.0f);
  for (int64_t i0 = 0; i0 < k; i0 += kPanel) {
    const int64_t i1 = std::min(k, i0 + kPanel);
    for (int64_t r = 0; r < n_rows; r += kR) {
      const int64_t rr = std::min<int64_t>(kR, n_rows - r);
      for (int64_t t = 0; t < n_tokens; t += kN) {
        const int64_t nt = std::min<int64_t>(kN, n_tokens - t);
        kPanelTiles[static_cast<size_t>((rr - 1) * kN + nt - 1)](w + r * row_stride, row_stride, i0, i1, k, x + t * k,
                                                                 acc + (r * n_tokens + t) * kL, n_tokens);
      }
    }
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = S::reduce_add(S::load(acc + (r * n_tokens + t) * kL));
  }
}

// Tokens go in blocks whose activations (whole rows of them) take at most kTokenBytes, so that
// every row tile finds them in L2: 128 tokens of a 2048-wide model are 1 MiB, which each 4-row tile
// would fetch again from L3 (bench_train_gemm's 5632-wide shape: 1.1-1.2x on both ISAs). Rows
// longer than a panel thus take fewer tokens at a time: a 5632-wide row's blocks of 5-6 tokens go
// through the direct tiles, 1.06-1.26x faster on Zen 5 (both ISAs) than blocks of 20 sized by one
// 2048-column panel.
inline constexpr int64_t kTokenBytes = 192 * 1024;

template <class S, DType T>
void gemm_typed(const uint8_t* w, size_t row_stride, int64_t n_rows, int64_t k, const float* x, int64_t n_tokens,
                float* y, int64_t y_stride) {
  constexpr int64_t kN = S::kGemmTokens;
  const auto bytes_per_token = static_cast<int64_t>(sizeof(float)) * k;
  const int64_t block = std::max(kN, kTokenBytes / bytes_per_token / kN * kN);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += block) {
    gemm_block<S, T>(w, row_stride, n_rows, k, x + t0 * k, std::min(block, n_tokens - t0), y + t0 * y_stride, y_stride);
  }
}

}  // namespace gemm

template <class S>
void gemm_float(const void* w, size_t row_stride, uint32_t type, int64_t n_rows, int64_t k, const float* x,
                int64_t n_tokens, float* y, int64_t y_stride) {
  const auto* rows = static_cast<const uint8_t*>(w);
  switch (static_cast<DType>(type)) {
    case DType::f32:
      return gemm::gemm_typed<S, DType::f32>(rows, row_stride, n_rows, k, x, n_tokens, y, y_stride);
    case DType::f16:
      return gemm::gemm_typed<S, DType::f16>(rows, row_stride, n_rows, k, x, n_tokens, y, y_stride);
    case DType::bf16:
      return gemm::gemm_typed<S, DType::bf16>(rows, row_stride, n_rows, k, x, n_tokens, y, y_stride);
    default:
      return;
  }
}

}  // namespace owl::kernels::simd
