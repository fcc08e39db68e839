// Float vector kernels written once for every ISA: the fixed-order f32 dot product (four
// accumulators of S::kLanes lanes, one fixed reduction) and f16/bf16 row conversion.
#pragma once

#include <cstdint>

#include "kernels/cpu/kernels.h"

namespace owl::kernels::simd {

template <class S>
float dot_f32(const float* a, const float* b, int64_t n) {
  constexpr int kL = S::kLanes;
  auto acc0 = S::zero(), acc1 = S::zero(), acc2 = S::zero(), acc3 = S::zero();
  int64_t i = 0;
  for (; i + 4 * kL <= n; i += 4 * kL) {
    acc0 = S::fma(S::load(a + i), S::load(b + i), acc0);
    acc1 = S::fma(S::load(a + i + kL), S::load(b + i + kL), acc1);
    acc2 = S::fma(S::load(a + i + 2 * kL), S::load(b + i + 2 * kL), acc2);
    acc3 = S::fma(S::load(a + i + 3 * kL), S::load(b + i + 3 * kL), acc3);
  }
  for (; i + kL <= n; i += kL) acc0 = S::fma(S::load(a + i), S::load(b + i), acc0);
  if (i < n) {
    const auto m = S::tail(n - i);
    acc1 = S::fma(S::load(a + i, m), S::load(b + i, m), acc1);
  }
  return S::reduce_add(S::add(S::add(acc0, acc1), S::add(acc2, acc3)));
}

template <class S>
void f16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + S::kLanes <= n; i += S::kLanes) S::store(dst + i, S::load_f16(src + i));
  if (i < n) {
    const auto m = S::tail(n - i);
    S::store(dst + i, m, S::load_f16(src + i, m));
  }
}

template <class S>
void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + S::kLanes <= n; i += S::kLanes) S::store(dst + i, S::load_bf16(src + i));
  if (i < n) {
    const auto m = S::tail(n - i);
    S::store(dst + i, m, S::load_bf16(src + i, m));
  }
}

template <class S>
void fill_vec(KernelTable& t) {
  t.dot_f32 = dot_f32<S>;
  t.f16_to_f32 = f16_to_f32<S>;
  t.bf16_to_f32 = bf16_to_f32<S>;
}

}  // namespace owl::kernels::simd
