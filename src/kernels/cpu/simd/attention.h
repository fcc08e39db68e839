// Attention kernels written once for every ISA, over up to kMaxQueries queries at once (each key
// and value row is read once for all of them), for key and value rows of f32, f16 or Q8_0 (a KV
// cache's type): each row is converted to float as it is loaded, so the arithmetic is the same
// for all three.
//  - scores (kernels.h DotRowsFn and its typed forms): every (query, key) pair sums lane-wise over
//    d and is reduced by S::reduce_add, whatever the tile, so a query's numbers do not depend on
//    how many share the call;
//  - weighted sums (WeightedSumFn and its typed forms): S::kWeightedVectors vectors of output per
//    query at a time, the value row's vectors loaded once for every query.
#pragma once

#include <cstdint>

#include "base/fp16.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/static_count.h"
#include "tensor/blocks.h"

namespace owl::kernels::simd {

namespace attention {

// Rows of float32, `stride` floats apart: the vector at column i of row p, of which `left` columns
// remain in the row (the rest of the vector reads as zeros).
template <class S>
struct F32Rows {
  const float* base;
  int64_t stride;
  typename S::F load(int64_t p, int64_t i, int64_t left) const {
    const float* x = base + p * stride + i;
    return left >= S::kLanes ? S::load(x) : S::load(x, S::tail(left));
  }
};

template <class S>
struct F16Rows {
  const uint16_t* base;
  int64_t stride;
  typename S::F load(int64_t p, int64_t i, int64_t left) const {
    const uint16_t* h = base + p * stride + i;
    return left >= S::kLanes ? S::load_f16(h) : S::load_f16(h, S::tail(left));
  }
};

// Rows of Q8_0 blocks, `stride` blocks apart (lengths are multiples of 32, so a vector never
// crosses a block): d·q, as dequantize does.
template <class S>
struct Q8Rows {
  const BlockQ8_0* base;
  int64_t stride;
  typename S::F load(int64_t p, int64_t i, int64_t /*left*/) const {
    const BlockQ8_0& b = base[p * stride + i / 32];
    return S::load_i8_scaled(b.qs + i % 32, fp16_to_fp32(b.d));
  }
};

// NQ queries x NK keys from key p0 on.
template <class S, int NQ, int NK, class Rows>
void scores_tile(const float* q, int64_t q_stride, const Rows& k, int64_t p0, int64_t d, float scale, float* out,
                 int64_t out_stride) {
  // (The unroll pragmas keep acc in registers; g++ 12 otherwise stores it to the stack every step.)
  typename S::F acc[NQ][NK];
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) acc[j][p] = S::zero();
  }
  for (int64_t i = 0; i < d; i += S::kLanes) {
    const int64_t left = d - i;
    typename S::F kv[NK];
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) kv[p] = k.load(p0 + p, i, left);
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      const float* qj = q + j * q_stride + i;
      const auto qv = left >= S::kLanes ? S::load(qj) : S::load(qj, S::tail(left));
#pragma GCC unroll 8
      for (int p = 0; p < NK; ++p) acc[j][p] = S::fma(qv, kv[p], acc[j][p]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 8
    for (int p = 0; p < NK; ++p) out[j * out_stride + p] = S::reduce_add(acc[j][p]) * scale;
  }
}

template <class S, int NQ, class Rows>
void scores_q(const float* q, int64_t q_stride, const Rows& k, int64_t n, int64_t d, float scale, float* out,
              int64_t out_stride) {
  constexpr int kKeys = NQ == 1 ? 4 : 2;  // at most 8 accumulators: the 16 ymm registers hold them
  int64_t p = 0;
  for (; p + kKeys <= n; p += kKeys) scores_tile<S, NQ, kKeys>(q, q_stride, k, p, d, scale, out + p, out_stride);
  for (; p < n; ++p) scores_tile<S, NQ, 1>(q, q_stride, k, p, d, scale, out + p, out_stride);
}

template <class S, int NQ, class Rows>
void weighted_q(const float* w, int64_t w_stride, const Rows& v, int64_t n, int64_t d, float* out, int64_t out_stride) {
  constexpr int kC = S::kWeightedVectors, kL = S::kLanes;
  for (int64_t i0 = 0; i0 < d; i0 += kC * kL) {
    typename S::F acc[NQ][kC];
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) acc[j][c] = S::zero();
    }
    for (int64_t p = 0; p < n; ++p) {
      typename S::F vv[kC];
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) vv[c] = d - i0 - c * kL > 0 ? v.load(p, i0 + c * kL, d - i0 - c * kL) : S::zero();
#pragma GCC unroll 4
      for (int j = 0; j < NQ; ++j) {
        const auto wp = S::broadcast(w + j * w_stride + p);
#pragma GCC unroll 4
        for (int c = 0; c < kC; ++c) acc[j][c] = S::fma(wp, vv[c], acc[j][c]);
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) {
        if (d - i0 - c * kL > 0) S::store(out + j * out_stride + i0 + c * kL, S::tail(d - i0 - c * kL), acc[j][c]);
      }
    }
  }
}

}  // namespace attention

// The table's entries for rows of Elem read by Rows: nq (1 to kMaxQueries) queries at once.
template <class S, template <class> class Rows, class Elem>
void dot_rows(const float* q, int64_t q_stride, int nq, const Elem* k, int64_t stride, int64_t n, int64_t d,
              float scale, float* out, int64_t out_stride) {
  with_count<kMaxQueries>(nq, [&]<int NQ>() {
    attention::scores_q<S, NQ>(q, q_stride, Rows<S>{k, stride}, n, d, scale, out, out_stride);
  });
}

template <class S, template <class> class Rows, class Elem>
void weighted_sum(const float* w, int64_t w_stride, int nq, const Elem* v, int64_t stride, int64_t n, int64_t d,
                  float* out, int64_t out_stride) {
  with_count<kMaxQueries>(nq, [&]<int NQ>() {
    attention::weighted_q<S, NQ>(w, w_stride, Rows<S>{v, stride}, n, d, out, out_stride);
  });
}

// Every attention entry of the table (an ISA with a faster f32 score kernel sets its own after).
template <class S>
void fill_attention(KernelTable& t) {
  t.dot_rows = dot_rows<S, attention::F32Rows, float>;
  t.weighted_sum = weighted_sum<S, attention::F32Rows, float>;
  t.dot_rows_f16 = dot_rows<S, attention::F16Rows, uint16_t>;
  t.weighted_sum_f16 = weighted_sum<S, attention::F16Rows, uint16_t>;
  t.dot_rows_q8_0 = dot_rows<S, attention::Q8Rows, BlockQ8_0>;
  t.weighted_sum_q8_0 = weighted_sum<S, attention::Q8Rows, BlockQ8_0>;
}

}  // namespace owl::kernels::simd
